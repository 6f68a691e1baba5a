import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog } from '../../src/core/types.js';
import { writeClickLog } from '../../src/data/click-log-io.js';
import { StoredGroups } from '../../src/data/engine-groups.js';
import { LogEngine } from '../../src/data/engine.js';
import { withPairBucket } from '../../src/data/pair-hash.js';
import { concatChunks } from '../../src/data/log-concat.js';
import { fitClickModel, fitWithEngine, formatEngineFitReport } from '../../src/fitting/index.js';
import { evaluateClickModel } from '../../src/fitting/evaluation.js';
import { fitOnGroups, indexGroups } from '../../src/fitting/session-groups.js';
import { DynamicBayesianNetworkModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

// 40 queries of 7 documents each (280 pairs), shown shuffled: nearly every session is a group of its own, so the groups span several DuckDB chunks.
const QUERIES = 40;
const LIST = 7;
const lists = {
  offsets: Int32Array.from({ length: QUERIES + 1 }, (_, q) => q * LIST),
  documents: Int32Array.from({ length: QUERIES * LIST }, (_, i) => 1000 + ((i * 37) % 500)),
};
// The test log's lists: every other query shows some documents the training log never does.
const testLists = { offsets: lists.offsets, documents: lists.documents.map((d, i) => (Math.floor(i / LIST) % 2 === 1 && i % 3 === 0 ? d + 600 : d)) };
const simulated = (name: string, sessions: number, shown = lists) =>
  simulateSessions(shown, {
    numSessions: sessions,
    clickModel: new DynamicBayesianNetworkModel(0.8, 'attractiveness'),
    // By document id.
    relevance: Float32Array.from({ length: 2100 }, (_, d) => 0.1 + (0.8 * ((d * 13) % 17)) / 17),
    rng: randomStream(`streamed-${name}`),
    intervention: 'shuffle',
    truth: false,
  }).log;
const parts = [simulated('a', 3000), simulated('b', 3000)];
const testLog = simulated('test', 1500, testLists);
const dir = mkdtempSync(join(tmpdir(), 'clicklab-streamed-'));
const trainFolder = join(dir, 'train');
const testFile = join(dir, 'test.parquet');
let engine: LogEngine;

beforeAll(async () => {
  mkdirSync(trainFolder);
  await writeClickLog(join(trainFolder, 'part-0.parquet'), { log: parts[0] });
  await writeClickLog(join(trainFolder, 'part-1.parquet'), { log: parts[1] });
  await writeClickLog(testFile, { log: testLog });
  engine = await LogEngine.open({ memoryLimit: '256MB', threads: 1 });
});
afterAll(() => {
  engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The bucket of (q, d) among `buckets`, by the hash data/pair-hash.ts documents, computed here in BigInt. */
function bucketOf(q: number, d: number, buckets: number): number {
  const p = 2n ** 61n - 1n;
  // The non-negative remainder (ids may be negative).
  const mod = (x: bigint) => ((x % p) + p) % p;
  const h = mod(1442695040888963407n * BigInt(q) + 1181783497276652981n * BigInt(d) + 1609587929392839161n);
  return Number(mod(mod(mod(h * h) * 2039575427463517591n) + h * 1875293844713214407n + 662811743121497027n) % BigInt(buckets));
}

describe('the cascade family streamed from DuckDB', () => {
  it('stores the groups in several batches (DuckDB chunks) of whole groups', async () => {
    const stored = await StoredGroups.ofLogs(engine, trainFolder, undefined, { maxPairParameters: 1e6 });
    try {
      let batches = 0;
      let sessions = 0;
      for await (const batch of stored.batches(stored.train)) {
        batches++;
        for (let g = 0; g < batch.groups; g++) sessions += batch.weight[g];
      }
      expect(batches).toBeGreaterThan(2);
      expect(sessions).toBe(6000);
      // Clicks, and lists of every length up to 7 of them.
      expect(parts[0].click.reduce((sum, c) => sum + c, 0)).toBeGreaterThan(3000);
      expect(stored.indexing).toMatchObject({ hashed: false, parameters: stored.indexing.pairs });
    } finally {
      await stored.drop();
    }
  });

  for (const model of ['dbn', 'dcm', 'ccm', 'cm'] as const) {
    it(`${model}: streamed EM with exact pair ids equals the in-memory fit on the groups (parameters, train and test quality, 1e-9)`, async () => {
      const tasks: string[] = [];
      const progress = { start: (label: string) => void tasks.push(label), update() {}, finish() {}, log() {} };
      const report = await fitWithEngine({ model, log: trainFolder, testLog: testFile, iterations: 12, threads: 1, memoryLimit: '256MB', inMemoryRows: 0, progress });
      expect(tasks.some((t) => t.includes('(streamed from DuckDB)'))).toBe(true);
      expect(report.hashedPairs).toBeNull();
      const groups = indexGroups(await engine.sessionGroups(trainFolder), await engine.sessionGroups(testFile));
      const reference = fitOnGroups(groups, { model, iterations: 12 });
      const byPair = new Map(Array.from(groups.log.pairQuery, (q, p) => [`${q}/${groups.log.pairDocument[p]}`, p]));
      expect(report.pairs).toBe(byPair.size);
      const perPair = (m: typeof reference) => [m.attractiveness.value, ...(m.type === 'dbn' ? [Float64Array.from(m.parameters().satisfaction as number[])] : [])];
      const [ours, theirs] = [perPair(report.model), perPair(reference)];
      expect(ours.length).toBe(model === 'dbn' ? 2 : 1);
      for (let p = 0; p < report.pairs; p++) {
        const r = byPair.get(`${report.pairQuery[p]}/${report.pairDocument[p]}`)!;
        for (let j = 0; j < ours.length; j++) expect(ours[j][p]).toBeCloseTo(theirs[j][r], 9);
      }
      const rankParameters = (m: typeof reference) => Object.entries(m.parameters()).filter(([name]) => name !== 'satisfaction');
      expect(rankParameters(report.model)).toEqual(rankParameters(reference).map(([name, v]) => [name, Array.isArray(v) ? v.map((x) => expect.closeTo(x as number, 9)) : expect.closeTo(v, 9)]));
      for (const [quality, sessions] of [
        [report.trainQuality, groups.train],
        [report.testQuality!, groups.test],
      ] as const) {
        const expected = evaluateClickModel(reference, groups.log, sessions);
        expect(quality.sessions).toBe(expected.sessions);
        expect(quality.logLikelihood).toBeCloseTo(expected.logLikelihood, 9);
        expect(quality.perplexityAtRank).toEqual(expected.perplexityAtRank.map((v) => expect.closeTo(v, 9)));
      }
      expect(report.testSessions).toBe(1500);
      // Test slots whose (query, document) the training log never shows, counted from the logs themselves.
      const trained = new Set<string>();
      for (const log of parts)
        for (let s = 0; s < log.sessionQuery.length; s++) for (let r = log.sessionOffsets[s]; r < log.sessionOffsets[s + 1]; r++) trained.add(`${log.sessionQuery[s]}/${log.document[r]}`);
      let unseen = 0;
      for (let s = 0; s < testLog.sessionQuery.length; s++)
        for (let r = testLog.sessionOffsets[s]; r < testLog.sessionOffsets[s + 1]; r++) unseen += trained.has(`${testLog.sessionQuery[s]}/${testLog.document[r]}`) ? 0 : 1;
      expect(unseen).toBeGreaterThan(100);
      expect(report.unseenTestSlots).toBe(unseen);
    });
  }

  for (const model of ['dbn', 'sdbn'] as const) {
    it(`${model}: hashed into fewer buckets than pairs, equals the in-memory fit on the log whose pairs are replaced by their buckets (1e-9), and says so`, async () => {
      const exact = await fitWithEngine({ model, log: trainFolder, iterations: 10, threads: 1, pairs: false, inMemoryRows: 0 });
      const buckets = Math.floor(exact.pairs / 4);
      const report = await fitWithEngine({ model, log: trainFolder, iterations: 10, threads: 1, maxPairParameters: buckets });
      const hashed = report.hashedPairs!;
      expect([hashed.buckets, hashed.pairs]).toEqual([buckets, exact.pairs]);
      expect(formatEngineFitReport(report, trainFolder)).toContain(`hashed ${exact.pairs} (query, document) pairs into ${buckets} buckets, ${hashed.used} of them used`);
      // Independently: every slot's (query, document) replaced by (0, its bucket), fitted by EM on the sessions.
      const whole = concatChunks(parts.map((log) => ({ log }))).log;
      const bucketed: ClickLog = { ...whole, sessionQuery: new Int32Array(whole.sessionQuery.length), document: new Int32Array(whole.document.length) };
      for (let s = 0; s < whole.sessionQuery.length; s++)
        for (let row = whole.sessionOffsets[s]; row < whole.sessionOffsets[s + 1]; row++) bucketed.document[row] = bucketOf(whole.sessionQuery[s], whole.document[row], buckets);
      const reference = fitClickModel(bucketed, { model, iterations: 10, testFraction: 0 });
      // One parameter set per bucket in use, each named by its bucket.
      const used = new Set(bucketed.document);
      expect(used.size).toBeGreaterThan(buckets / 2);
      expect(report.model.attractiveness.size).toBe(used.size);
      expect(new Set(hashed.bucket)).toEqual(used);
      const index = new Map(Array.from(hashed.bucket, (b, i) => [b, i]));
      for (let p = 0; p < reference.log.pairDocument.length; p++)
        expect(report.model.attractiveness.value[index.get(reference.log.pairDocument[p])!]).toBeCloseTo(reference.model.attractiveness.value[p], 9);
      expect(report.trainQuality.logLikelihood).toBeCloseTo(reference.trainQuality.logLikelihood, 9);
      expect(report.trainQuality.perplexityAtRank).toEqual(reference.trainQuality.perplexityAtRank.map((v) => expect.closeTo(v, 9)));
      // The buckets' shared parameters are not the pairs' own: another fit.
      expect(Math.abs(report.trainQuality.logLikelihood - exact.trainQuality.logLikelihood)).toBeGreaterThan(1e-4);
    });
  }

  it('clicklab fit --max-pair-parameters hashes and says so; a bad budget is a one-line error', () => {
    const cli = (args: string[]) => spawnSync('node', [resolve('dist/cli/main.js'), 'fit', '--model', 'dbn', '--log', trainFolder, '--iterations', '3', '--quiet', ...args], { encoding: 'utf8' });
    const run = cli(['--max-pair-parameters', '50', '--out', join(dir, 'hashed.json')]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/hashed \d+ \(query, document\) pairs into 50 buckets/);
    for (const bad of ['0', '2.5', 'many']) {
      const refused = cli(['--max-pair-parameters', bad, '--out', join(dir, 'never.json')]);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toContain('--max-pair-parameters');
    }
  });

  it('refuses a bad budget and a world beyond it in one line naming the flag', async () => {
    for (const bad of [0, -3, 1.5, 2 ** 31]) {
      await expect(fitWithEngine({ model: 'dbn', log: trainFolder, iterations: 2, threads: 1, maxPairParameters: bad })).rejects.toThrow(ConfigError);
    }
    const error = await fitWithEngine({ model: 'dbn', log: trainFolder, iterations: 2, threads: 1, maxPairParameters: 10, world: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('--max-pair-parameters');
    expect((error as Error).message.split('\n')).toHaveLength(1);
  });

  it('hashes structured ids (12 documents numbered after each query) evenly, in SQL as in BigInt, and ids at the ends of the 32-bit range', async () => {
    const B = 4096;
    const rows = await engine.rows(`SELECT q, d, bucket FROM ${withPairBucket('(SELECT r // 12 AS q, r AS d FROM range(12000) t(r))', B)}`);
    for (const [q, d, b] of rows) expect(b).toBe(bucketOf(Number(q), Number(d), B));
    // Ids at the ends of the 32-bit range, negative ones too: the same buckets as the BigInt remainders.
    const extremes = await engine.rows(`SELECT q, d, bucket FROM ${withPairBucket('(SELECT 2147483647 - r * 1000003 AS q, -2147483648 + r * 7 AS d FROM range(2000) t(r))', B)}`);
    expect(extremes.some(([q, d]) => Number(q) > 2 ** 30 && Number(d) < -(2 ** 30))).toBe(true);
    for (const [q, d, b] of extremes) expect(b).toBe(bucketOf(Number(q), Number(d), B));
    // 12,000 pairs thrown at random into 4,096 buckets leave B (1 − e^(−12000/B)) ≈ 3,878 of them used.
    const used = new Set(rows.map((r) => r[2])).size;
    expect(used).toBeGreaterThan(0.97 * B * (1 - Math.exp(-12000 / B)));
  });

  it('names a log whose sessions are not ranked 1 .. n', async () => {
    const gap = join(dir, 'gap.csv');
    writeFileSync(gap, 'session,query,item_id,position,click\n0,1,5,1,0\n0,1,6,3,1\n');
    await expect(StoredGroups.ofLogs(engine, gap, undefined, { maxPairParameters: 10 })).rejects.toThrow(`${gap}: a session of query 1 has ranks that are not 1, 2, …, n in order`);
    const twice = join(dir, 'twice.csv');
    writeFileSync(twice, 'session,query,item_id,position,click\n0,1,5,1,0\n0,1,6,1,1\n0,1,7,3,0\n');
    await expect(StoredGroups.ofLogs(engine, twice, undefined, { maxPairParameters: 10 })).rejects.toThrow(`${twice}: a session of query 1 shows two results at one rank`);
  });
});
