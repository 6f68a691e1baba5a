/**
 * Property-based fuzzing of every loader (issue 16): random bytes, truncations and byte mutations
 * of small valid files must give either a result or a ClickLabError whose one-line message names
 * the file: never another exception type, never a hang. The seed is fixed and printed in the test
 * names; a failure prints fast-check's counterexample and path, which replay it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickLabError } from '../../src/core/errors.js';
import { readClickLog, writeClickLog } from '../../src/data/click-log-io.js';
import type { LoggedClicks } from '../../src/data/click-log-table.js';
import { readInteractionLog, writeInteractionLog } from '../../src/data/interaction-log-io.js';
import { readLetorFile } from '../../src/data/letor.js';
import { readOpenBanditLog } from '../../src/data/open-bandit.js';
import { readYandexRelPredLog } from '../../src/data/yandex-relpred.js';

const SEED = 16016;
const RUNS = 100;
/** A loader that has not answered by then hangs: the case fails. */
const CASE_TIMEOUT_MS = 2000;

const dir = mkdtempSync(join(tmpdir(), 'clicklab-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const clicks: LoggedClicks = {
  log: {
    sessionQuery: Int32Array.of(4, 0, 7),
    sessionOffsets: Int32Array.of(0, 3, 5, 6),
    document: Int32Array.of(10, 11, 12, 0, 1, 5),
    position: Uint16Array.of(0, 1, 2, 0, 1, 0),
    click: Uint8Array.of(1, 0, 0, 0, 1, 0),
  },
  propensity: Float32Array.of(0.5, 0.25, 0.125, 1, 0.33333334, 0.75),
};

const OPEN_BANDIT_HEADER =
  ',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2';
const obRow = (item: number, position: number, click: number, p: number): string => `0,2019-11-24 00:03:13.442536+00:00,${item},${position},${click},${p},aa,bb,cc,dd,0.0,1.5,0`;

/** The loaders and the valid files they are fuzzed from: name → [extension, loader]. */
const LOADERS: Record<string, [string, (file: string) => Promise<unknown>]> = {
  'click log csv': ['csv', (f) => readClickLog(f)],
  'click log jsonl': ['jsonl', (f) => readClickLog(f)],
  'click log parquet': ['parquet', (f) => readClickLog(f)],
  'click log arrow': ['arrow', (f) => readClickLog(f)],
  'interaction log csv': ['csv', (f) => readInteractionLog(f)],
  'interaction log jsonl': ['jsonl', (f) => readInteractionLog(f)],
  letor: ['txt', (f) => readLetorFile(f)],
  'open bandit csv': ['csv', (f) => readOpenBanditLog(f)],
  yandex: ['txt', (f) => readYandexRelPredLog(f)],
};

const valid: Record<string, Uint8Array> = {};

beforeAll(async () => {
  for (const format of ['csv', 'jsonl', 'parquet', 'arrow'] as const) {
    const file = join(dir, `valid.${format}`);
    await writeClickLog(file, clicks);
    valid[`click log ${format}`] = readFileSync(file);
  }
  for (const format of ['csv', 'jsonl'] as const) {
    const file = join(dir, `valid-interactions.${format}`);
    await writeInteractionLog(file, { log: { user: Int32Array.of(0, 0, 1, 3), item: Int32Array.of(2, 5, 2, 1), click: Uint8Array.of(1, 0, 0, 1) }, propensity: Float32Array.of(0.5, 0.5, 0.25, 1) });
    valid[`interaction log ${format}`] = readFileSync(file);
  }
  valid.letor = Buffer.from('2 qid:1 1:0.5 2:1 3:-0.25\n0 qid:1 1:0.1 3:1e-3\n1 qid:7 1:3 2:0.75 3:0\n');
  valid['open bandit csv'] = Buffer.from(`${OPEN_BANDIT_HEADER}\n${obRow(2, 1, 1, 0.5)}\n${obRow(0, 3, 0, 0.25)}\n${obRow(1, 2, 0, 0.125)}\n`);
  valid.yandex = Buffer.from(['0\t0\tQ\t7\t213\t101\t102\t103', '0\t5\tC\t103', '1\t0\tQ\t8\t1\t201,5\t202,6', '1\t3\tC\t202'].map((l) => `${l}\n`).join(''));
});

/** How a valid file is broken: replaced by random bytes, cut short, or with some bytes changed. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('mutate' as const),
    changes: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'random':
      return m.bytes;
    case 'truncate':
      return bytes.subarray(0, Math.floor(m.at * bytes.length));
    case 'mutate': {
      const copy = Uint8Array.from(bytes);
      for (const [where, value] of m.changes) copy[Math.floor(where * copy.length)] = value;
      return copy;
    }
  }
}

let cases = 0;

/** Runs the loader on `bytes`: fine when it gives a result or a one-line ClickLabError naming the file. */
async function check(name: string, bytes: Uint8Array): Promise<void> {
  const [extension, load] = LOADERS[name];
  const file = join(dir, `case-${cases++}.${extension}`);
  writeFileSync(file, bytes);
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no answer in ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
  });
  try {
    await Promise.race([load(file), hang]);
  } catch (error) {
    if (!(error instanceof ClickLabError)) throw new Error(`${name}: expected a ClickLabError, found ${String(error)}`);
    if (!error.message.includes(file)) throw new Error(`${name}: the message does not name the file: ${error.message}`);
    if (error.message.includes('\n')) throw new Error(`${name}: the message is not one line: ${error.message}`);
  } finally {
    clearTimeout(timer);
    rmSync(file, { force: true });
  }
}

describe(`loaders under random bytes, truncation and mutation (fast-check seed ${SEED}, ${RUNS} runs each)`, () => {
  for (const name of Object.keys(LOADERS)) {
    it(`${name} (seed ${SEED})`, { timeout: 60_000 }, async () => {
      await check(name, valid[name]); // the valid file itself reads
      await fc.assert(
        fc.asyncProperty(mutation, (m) => check(name, apply(valid[name], m))),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  it('a truncated clicklab CSV or JSON Lines log is refused at every cut (no randomness)', { timeout: 60_000 }, async () => {
    for (const name of ['click log csv', 'click log jsonl', 'interaction log csv', 'interaction log jsonl']) {
      const bytes = valid[name];
      for (let at = 0; at < bytes.length; at++) {
        const [extension, load] = LOADERS[name];
        const file = join(dir, `cut-${at}.${extension}`);
        writeFileSync(file, bytes.subarray(0, at));
        const outcome = await load(file).then(
          () => 'read',
          (error: unknown) => error,
        );
        rmSync(file, { force: true });
        // Only the cut of the final newline leaves a complete log; an empty JSON Lines file is an empty log (another tool's).
        if (at === bytes.length - 1 || (at === 0 && extension === 'jsonl')) expect(outcome).toBe('read');
        else expect(outcome, `${name} cut at byte ${at} of ${bytes.length}`).toBeInstanceOf(ClickLabError);
      }
    }
  });
});
