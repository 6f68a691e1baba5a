import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { InteractionLogWriter, readInteractionLog, writeInteractionLog } from '../../src/data/interaction-log-io.js';
import type { LoggedInteractions } from '../../src/data/interaction-log-table.js';
import { simulateInteractions } from '../../src/simulation/recommender/index.js';
import {
  buildRecommenderWorld,
  RECOMMENDER_DEFAULTS,
  recommenderTestSet,
  resolveRecommenderSpec,
  simulateRecommenderLog,
  USERS_PER_CHUNK,
  type RecommenderSpec,
} from '../../src/simulation/recommender/simulate-log.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-simulate-recommender-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Small and quick: a few exposures per user over 120 items. */
const small: RecommenderSpec = { users: 300, items: 120, dimension: 4, exposure: { expectedExposures: 6, popularityExponent: 0.5 } };

async function collect(spec: RecommenderSpec, seed: string): Promise<Required<LoggedInteractions>[]> {
  const chunks: Required<LoggedInteractions>[] = [];
  await simulateRecommenderLog(spec, randomStream(seed), (chunk) => {
    chunks.push(chunk as Required<LoggedInteractions>);
  });
  return chunks;
}

function bytes(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function expectSameChunk(a: LoggedInteractions, b: LoggedInteractions): void {
  for (const key of ['user', 'item', 'click'] as const) expect(bytes(a.log[key]).equals(bytes(b.log[key]))).toBe(true);
  expect(bytes(a.propensity!).equals(bytes(b.propensity!))).toBe(true);
  expect(bytes(a.truth!.preferenceProbability).equals(bytes(b.truth!.preferenceProbability))).toBe(true);
}

/** The ConfigError that `run` throws. */
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, none was thrown');
}

describe('resolveRecommenderSpec', () => {
  it('fills in the defaults', () => {
    expect(resolveRecommenderSpec({})).toEqual(RECOMMENDER_DEFAULTS);
    const params = resolveRecommenderSpec({ items: 20, exposure: { minProbability: 0.1 } });
    // Fewer items than the default 50 exposures: every item is shown, in expectation.
    expect(params.exposure).toEqual({ expectedExposures: 20, popularityExponent: 1, minProbability: 0.1 });
    expect(Object.isFrozen(RECOMMENDER_DEFAULTS.exposure)).toBe(true);
  });

  it('names the field path of every invalid value', () => {
    const cases: [unknown, string, string][] = [
      [{ users: 0 }, 'users', 'expected an integer ≥ 1, found 0'],
      [{ items: 1.5 }, 'items', 'found 1.5'],
      [{ dimension: '8' }, 'dimension', 'expected an integer in [1, 1024], found "8"'],
      [{ popularityExponent: -1 }, 'popularityExponent', 'a finite number ≥ 0'],
      [{ meanPreference: 1 }, 'meanPreference', 'expected a number in (0, 1), found 1'],
      [{ items: 100, exposure: { expectedExposures: 101 } }, 'exposure.expectedExposures', 'in (0, 100] (the number of items), found 101'],
      [{ exposure: { popularityExponent: Infinity } }, 'exposure.popularityExponent', 'found Infinity'],
      [{ items: 100, exposure: { expectedExposures: 10, minProbability: 0.2 } }, 'exposure.minProbability', 'minProbability · 100 items ≤ expectedExposures = 10, found 0.2'],
      [{ exposure: 5 }, 'exposure', 'expected an object, found 5'],
      [{ user: 10 }, 'user', 'unknown field (did you mean "users"?)'],
      [{ exposure: { expectedExposure: 10 } }, 'exposure.expectedExposure', 'did you mean "expectedExposures"'],
      [null, 'spec', 'expected an object, found null'],
    ];
    for (const [spec, path, words] of cases) {
      const error = configError(() => resolveRecommenderSpec(spec as RecommenderSpec));
      expect(error.path).toBe(path);
      expect(error.problem).toContain(words);
    }
    expect(configError(() => resolveRecommenderSpec({ exposure: { minProbability: 2 } }, 'recommender')).path).toBe('recommender.exposure.minProbability');
    expect(configError(() => buildRecommenderWorld({ users: -3 }, randomStream(1))).path).toBe('users');
  });
});

describe('simulateRecommenderLog', () => {
  it('is deterministic per seed, and the seed matters', async () => {
    const a = await collect(small, 'seed-a');
    const b = await collect(small, 'seed-a');
    const c = await collect(small, 'seed-b');
    expect(a.length).toBe(1);
    expectSameChunk(a[0], b[0]);
    expect(bytes(a[0].log.item).equals(bytes(c[0].log.item))).toBe(false);
    // Users 0..299 in order, each user's rows contiguous with items ascending.
    const { user, item } = a[0].log;
    for (let r = 1; r < user.length; r++) {
      expect(user[r] >= user[r - 1]).toBe(true);
      if (user[r] === user[r - 1]) expect(item[r] > item[r - 1]).toBe(true);
    }
    expect(user[user.length - 1]).toBeLessThan(300);
  });

  it("gives each row the exposure θ of its item as pscore, and the world's preference as truth", async () => {
    const [chunk] = await collect(small, 'theta');
    const { world, exposure } = buildRecommenderWorld(small, randomStream('theta'));
    const { log, propensity, truth } = chunk;
    expect(propensity).toBe(truth.exposureProbability);
    const preference = new Float32Array(1);
    for (let r = 0; r < log.user.length; r++) {
      expect(propensity[r]).toBe(Math.fround(exposure.probability[log.item[r]]));
      world.preference(log.user[r], Int32Array.of(log.item[r]), preference);
      expect(truth.preferenceProbability[r]).toBe(preference[0]);
    }
    // Σθ = 6 exposures per user: the mean row count is near 6 · 300.
    expect(log.user.length).toBeGreaterThan(1500);
    expect(log.user.length).toBeLessThan(2100);
  });

  it('simulates chunks of USERS_PER_CHUNK users, chunk k from rng.derive(users, k)', async () => {
    const spec: RecommenderSpec = { ...small, users: USERS_PER_CHUNK + 40, exposure: { expectedExposures: 2 } };
    const chunks = await collect(spec, 'chunks');
    expect(chunks.length).toBe(2);
    // The second chunk is exactly what its own stream gives for its users, whatever came before.
    const rng = randomStream('chunks');
    const { world, exposure } = buildRecommenderWorld(spec, rng);
    const users = Int32Array.from({ length: 40 }, (_, k) => USERS_PER_CHUNK + k);
    const { log, truth } = simulateInteractions(world, exposure, { users, rng: rng.derive('users', 1) });
    expectSameChunk(chunks[1], { log, propensity: truth.exposureProbability, truth });
    const first = chunks[0].log.user;
    expect(first[first.length - 1]).toBeLessThan(USERS_PER_CHUNK);
  });

  it('streams into an InteractionLogWriter and reads back as the chunks', async () => {
    const spec: RecommenderSpec = { ...small, users: USERS_PER_CHUNK + 10, items: 50, exposure: { expectedExposures: 1 } };
    const file = join(dir, 'log.parquet');
    const writer = await InteractionLogWriter.open(file, { truth: true });
    const chunks: LoggedInteractions[] = [];
    await simulateRecommenderLog(spec, randomStream('stream'), async (chunk) => {
      chunks.push(chunk);
      await writer.write(chunk);
    });
    await writer.close();
    const back = await readInteractionLog(file, { truth: true });
    expect(back.log.user.length).toBe(writer.rows);
    let offset = 0;
    for (const chunk of chunks) {
      const n = chunk.log.user.length;
      expect(bytes(back.log.item.subarray(offset, offset + n)).equals(bytes(chunk.log.item))).toBe(true);
      expect(bytes(back.propensity!.subarray(offset, offset + n)).equals(bytes(chunk.propensity!))).toBe(true);
      expect(bytes(back.truth!.preferenceProbability.subarray(offset, offset + n)).equals(bytes(chunk.truth!.preferenceProbability))).toBe(true);
      offset += n;
    }
    expect(offset).toBe(back.log.user.length);
  });
});

describe('recommenderTestSet', () => {
  it('rates uniformly drawn items of the same world, with the outcomes the log has', async () => {
    const rng = randomStream('test-set');
    const test = recommenderTestSet(small, rng, { usersSample: 50, itemsPerUser: 10 });
    expect(test.log.user.length).toBe(500);
    expect(test.propensity![0]).toBe(Math.fround(10 / 120));
    expect(test.truth!.exposureProbability).toBe(test.propensity);

    const [log] = await collect(small, 'test-set');
    const outcome = new Map<number, number>();
    for (let r = 0; r < log.log.user.length; r++) outcome.set(log.log.user[r] * 120 + log.log.item[r], log.log.click[r]);
    let shared = 0;
    for (let r = 0; r < test.log.user.length; r++) {
      const click = outcome.get(test.log.user[r] * 120 + test.log.item[r]);
      if (click === undefined) continue;
      shared++;
      expect(test.log.click[r]).toBe(click);
    }
    expect(shared).toBeGreaterThan(0);

    // Deterministic, and writable as an interaction log.
    const again = recommenderTestSet(small, randomStream('test-set'), { usersSample: 50, itemsPerUser: 10 });
    expectSameChunk(test, again);
    const file = join(dir, 'test.jsonl');
    await writeInteractionLog(file, test, { truth: true });
    expectSameChunk(await readInteractionLog(file, { truth: true }), test);
  });

  it('checks its options', () => {
    expect(configError(() => recommenderTestSet(small, randomStream(1), { usersSample: 301, itemsPerUser: 5 })).path).toBe('testSet.usersSample');
    expect(configError(() => recommenderTestSet(small, randomStream(1), { usersSample: 10, itemsPerUser: 121 })).path).toBe('testSet.itemsPerUser');
  });
});
