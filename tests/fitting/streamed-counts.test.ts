import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { writeClickLog } from '../../src/data/click-log-io.js';
import { fitWithEngine } from '../../src/fitting/index.js';
import { UserBrowsingModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

// 60 queries of 7 documents shown shuffled under UBM: each pair's cells spread over ranks and distances, so the
// class counts run to thousands of rows (several DuckDB chunks); the test log shows documents the training log never does.
const QUERIES = 60;
const LIST = 7;
const lists = {
  offsets: Int32Array.from({ length: QUERIES + 1 }, (_, q) => q * LIST),
  documents: Int32Array.from({ length: QUERIES * LIST }, (_, i) => 1000 + ((i * 37) % 500)),
};
const testLists = { offsets: lists.offsets, documents: lists.documents.map((d, i) => (i % 5 === 0 ? d + 600 : d)) };
const gamma = Array.from({ length: LIST }, (_, k) => Array.from({ length: LIST }, (_, j) => 0.95 / (1 + 0.3 * k + 0.2 * j)));
const simulated = (name: string, sessions: number, shown = lists) =>
  simulateSessions(shown, {
    numSessions: sessions,
    clickModel: new UserBrowsingModel(gamma),
    relevance: Float32Array.from({ length: 2100 }, (_, d) => 0.1 + (0.8 * ((d * 13) % 17)) / 17),
    rng: randomStream(`streamed-counts-${name}`),
    intervention: 'shuffle',
    truth: false,
  }).log;
const dir = mkdtempSync(join(tmpdir(), 'clicklab-streamed-counts-'));
const trainFolder = join(dir, 'train');
const testFile = join(dir, 'test.parquet');

beforeAll(async () => {
  mkdirSync(trainFolder);
  await writeClickLog(join(trainFolder, 'part-0.parquet'), { log: simulated('a', 3000) });
  await writeClickLog(join(trainFolder, 'part-1.parquet'), { log: simulated('b', 3000) });
  await writeClickLog(testFile, { log: simulated('test', 1500, testLists) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PBM and UBM on class counts streamed from DuckDB', () => {
  for (const model of ['pbm', 'ubm'] as const) {
    it(`${model}: EM and the evaluation streamed over the count table (UBM's perplexity over the session groups, by class) equal them in memory, bit for bit`, async () => {
      const run = async (inMemoryRows?: number) => {
        const logged: string[] = [];
        const progress = { start: (label: string) => void logged.push(label), update() {}, finish() {}, log: (line: string) => void logged.push(line) };
        const report = await fitWithEngine({ model, log: trainFolder, testLog: testFile, iterations: 15, threads: 1, memoryLimit: '256MB', inMemoryRows, progress });
        // The counts streamed, and UBM's groups stored in DuckDB (data/engine-groups.ts) rather than read into memory.
        return { report, streamed: [logged.some((line) => line.includes('streamed from DuckDB')), logged.some((line) => line.startsWith('numbering the pairs'))] };
      };
      const [memory, streamed] = [await run(), await run(0)];
      expect([memory.streamed, streamed.streamed]).toEqual([
        [false, false],
        [true, model === 'ubm'],
      ]);
      const { report } = streamed;
      // Several chunks of DuckDB's 2,048 rows, and test slots of unseen pairs.
      expect(report.countRows).toBeGreaterThan(model === 'ubm' ? 3 * 2048 : 2048);
      expect(report.unseenTestSlots).toBeGreaterThan(0);
      expect(report.unseenTestSlots).toBe(memory.report.unseenTestSlots);
      expect([report.trainSessions, report.testSessions]).toEqual([6000, 1500]);
      expect(Array.from(report.model.attractiveness.value)).toEqual(Array.from(memory.report.model.attractiveness.value));
      expect(report.model.parameters()).toEqual(memory.report.model.parameters());
      expect(report.trainQuality).toEqual(memory.report.trainQuality);
      expect(report.testQuality).toEqual(memory.report.testQuality);
      expect(Number.isFinite(report.testQuality!.logLikelihood)).toBe(true);
      expect(report.testQuality!.perplexityAtRank).toHaveLength(LIST);
      expect(report.testQuality!.perplexity).toBeGreaterThan(1);
    });
  }
});
