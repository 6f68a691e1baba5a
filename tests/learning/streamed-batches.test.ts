import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog, RankingData } from '../../src/core/types.js';
import { writeClickLog } from '../../src/data/click-log-io.js';
import { loadRankingDataset } from '../../src/data/datasets.js';
import { LogEngine } from '../../src/data/engine.js';
import { concatChunks } from '../../src/data/log-concat.js';
import { initBackend } from '../../src/learning/backend.js';
import { streamedClickBatches } from '../../src/learning/streamed-batches.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { simulateSessions } from '../../src/simulation/sessions.js';
import { trainModel } from '../../src/studies/ultr/train-model.js';

await initBackend('wasm');

/** N one-click sessions of two documents, session s showing documents (2s, 2s + 1), in blocks of `blockSessions`. */
function blocksOf(n: number, blockSessions: number): ClickLog[] {
  const blocks: ClickLog[] = [];
  for (let from = 0; from < n; from += blockSessions) {
    const m = Math.min(blockSessions, n - from);
    blocks.push({
      sessionQuery: Int32Array.from({ length: m }, (_, i) => from + i),
      sessionOffsets: Int32Array.from({ length: m + 1 }, (_, i) => 2 * i),
      document: Int32Array.from({ length: 2 * m }, (_, r) => 2 * from + r),
      position: Uint16Array.from({ length: 2 * m }, (_, r) => r % 2),
      click: Uint8Array.from({ length: 2 * m }, (_, r) => (r % 2 === 0 ? 1 : 0)),
    });
  }
  return blocks;
}

function worldOf(numDocuments: number): RankingData {
  return {
    source: 'test',
    numFeatures: 1,
    features: Float32Array.from({ length: numDocuments }, (_, i) => i),
    labels: new Int32Array(numDocuments),
    queryOffsets: Int32Array.of(0, numDocuments),
    qids: ['0'],
    docIds: null,
  };
}

async function* replay(blocks: ClickLog[]): AsyncGenerator<ClickLog> {
  for (const block of blocks) yield block;
}

/** The session (its first document / 2) of every list of `steps` batches. */
async function drawnSessions(n: number, buffer: number, batchSize: number, steps: number, seed: number): Promise<number[]> {
  const blocks = blocksOf(n, 7);
  const source = streamedClickBatches(worldOf(2 * n), () => replay(blocks), batchSize, { bufferSessions: buffer, listLength: 2 });
  const rng = randomStream(seed);
  const drawn: number[] = [];
  for (let step = 0; step < steps; step++) {
    const batch = await source.next(rng);
    for (let i = 0; i < batch.numLists; i++) drawn.push(batch.features[batch.slotRows[i * batch.listLength]] / 2);
  }
  return drawn;
}

describe('streamed click batches (shuffle buffer)', () => {
  it('an epoch draws every session exactly once, and the next epoch starts over', async () => {
    const drawn = await drawnSessions(100, 30, 10, 20, 1);
    for (const epoch of [drawn.slice(0, 100), drawn.slice(100, 200)]) expect([...epoch].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(drawn.slice(0, 100)).not.toEqual(drawn.slice(100, 200));
  });

  it('the same seed gives the same batches', async () => {
    expect(await drawnSessions(100, 30, 10, 12, 7)).toEqual(await drawnSessions(100, 30, 10, 12, 7));
    expect(await drawnSessions(100, 30, 10, 12, 7)).not.toEqual(await drawnSessions(100, 30, 10, 12, 8));
  });

  it('a draw reaches only the buffer: the i-th draw comes from the first B + i sessions of the stream', async () => {
    const drawn = await drawnSessions(1000, 50, 25, 8, 3);
    for (const [i, s] of drawn.entries()) expect(s).toBeLessThan(50 + i);
  });

  it('with a buffer as large as the log, the first draw is uniform over the sessions (χ² test, 9 degrees of freedom)', async () => {
    const n = 10;
    const draws = 2000;
    const counts = new Float64Array(n);
    for (let seed = 0; seed < draws; seed++) counts[(await drawnSessions(n, n, 1, 1, seed))[0]]++;
    const expected = draws / n;
    let chi2 = 0;
    for (const c of counts) chi2 += (c - expected) ** 2 / expected;
    // P(χ²_9 > 27.88) = 0.001: a fixed-seed test that fails only if the draw is not uniform.
    expect(chi2).toBeLessThan(27.88);
  });

  it('sessions without a click are skipped unless the learner uses all sessions', async () => {
    const blocks = blocksOf(20, 5).map((b) => ({ ...b, click: b.click.map((c, r) => (b.sessionQuery[r >> 1] % 2 === 0 ? c : 0)) }));
    const source = streamedClickBatches(worldOf(40), () => replay(blocks), 10, { bufferSessions: 4, listLength: 2 });
    const batch = await source.next(randomStream(1));
    for (let i = 0; i < 10; i++) expect((batch.features[batch.slotRows[i * 2]] / 2) % 2).toBe(0);
  });
});

describe('train --log on a partitioned log (streamed)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clicklab-stream-train-'));
  const parts: ClickLog[] = [];
  beforeAll(async () => {
    const { train } = loadRankingDataset('mq2008', { fold: 1 });
    const numQueries = train.queryOffsets.length - 1;
    // Each query's first ten documents in file order, as the file-order logger shows them.
    const offsets = [0];
    const documents: number[] = [];
    for (let q = 0; q < numQueries; q++) {
      for (let r = train.queryOffsets[q]; r < Math.min(train.queryOffsets[q + 1], train.queryOffsets[q] + 10); r++) documents.push(r);
      offsets.push(documents.length);
    }
    const lists = { offsets: Int32Array.from(offsets), documents: Int32Array.from(documents) };
    const relevance = Float32Array.from(train.labels, (y) => (y === 2 ? 0.95 : y === 1 ? 0.5 : 0.05));
    mkdirSync(join(dir, 'parts'));
    for (let p = 0; p < 3; p++) {
      const { log } = simulateSessions(lists, {
        numSessions: 800,
        clickModel: new PositionBasedModel(Float64Array.from({ length: 10 }, (_, k) => 1 / (k + 1))),
        relevance,
        rng: randomStream(`stream-train-${p}`),
      });
      parts.push(log);
      await writeClickLog(join(dir, 'parts', `part-${p}.parquet`), { log });
    }
    await writeClickLog(join(dir, 'whole.parquet'), { log: concatChunks(parts.map((log) => ({ log }))).log });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const options = (log: string, out: string, stream?: { always?: boolean; bufferSessions?: number }) => ({
    learner: { type: 'naive' as const },
    clicks: { log, data: { dataset: 'mq2008' as const, fold: 1 }, ...(stream ? { stream } : {}) },
    model: { type: 'linear' as const },
    training: { steps: 60, batchSize: 32, learningRate: 0.05, clipNorm: 5, evalEvery: 20 },
    seed: 3,
    out: join(dir, out),
  });

  it('the same seed gives the same model; the folder streams, and records the shuffle buffer', async () => {
    const a = await trainModel(options(join(dir, 'parts'), 'a', { bufferSessions: 300 }));
    const b = await trainModel(options(join(dir, 'parts'), 'b', { bufferSessions: 300 }));
    expect(readFileSync(join(dir, 'a', 'weights.bin'))).toEqual(readFileSync(join(dir, 'b', 'weights.bin')));
    expect(a.history).toEqual(b.history);
    const description = JSON.parse(readFileSync(join(dir, 'a', 'model.json'), 'utf8'));
    expect(description.training.sessions).toBe(2400);
    expect(description.training.streamed).toEqual({ shuffleBufferSessions: 300 });
  });

  it('a glob streams the same partitions as their folder, and --stream streams one file', async () => {
    const glob = await trainModel(options(join(dir, 'parts', '*.parquet'), 'glob', { bufferSessions: 300 }));
    const folder = await trainModel(options(join(dir, 'parts'), 'folder', { bufferSessions: 300 }));
    expect(glob.history).toEqual(folder.history);
    const one = await trainModel(options(join(dir, 'whole.parquet'), 'one', { always: true }));
    expect(JSON.parse(readFileSync(join(dir, 'one', 'model.json'), 'utf8')).training.streamed).toEqual({ shuffleBufferSessions: 100_000 });
    expect(one.validation).not.toBeNull();
  });

  it('the doubly robust learner streams: its ρ from one pass, then two seeded streams (regression model, ranker)', async () => {
    const dr = (out: string) =>
      trainModel({
        ...options(join(dir, 'parts'), out, { bufferSessions: 300 }),
        learner: { type: 'doubly-robust' },
        clicks: { log: join(dir, 'parts'), data: { dataset: 'mq2008', fold: 1 }, clickModel: { type: 'pbm' } as never, stream: { bufferSessions: 300 } },
        training: { steps: 30, batchSize: 32, learningRate: 0.05, clipNorm: 5, evalEvery: 10 },
      });
    const a = await dr('dr-a');
    await dr('dr-b');
    expect(a.validation).not.toBeNull();
    expect(readFileSync(join(dir, 'dr-a', 'weights.bin'))).toEqual(readFileSync(join(dir, 'dr-b', 'weights.bin')));
    expect(JSON.parse(readFileSync(join(dir, 'dr-a', 'model.json'), 'utf8')).learner.alpha).toHaveLength(10);
  });

  it('refuses a log whose item ids are not rows of the data, naming the file and session', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    const log = parts[0];
    await writeClickLog(join(bad, 'part-0.parquet'), { log: { ...log, document: log.document.map((d, r) => (r === 25 ? 999_999 : d)) } });
    await expect(trainModel(options(bad, 'bad-model'))).rejects.toThrow(/part-0\.parquet: session \d+ has item 999999, but the data set has \d+ documents/);
  });

  it('the click-model learner does not stream, and says so', async () => {
    await expect(trainModel({ ...options(join(dir, 'parts'), 'cm'), learner: { type: 'click-model' } })).rejects.toThrow(/click-model .* does not stream/);
  });

  it('LogEngine.shuffledBatches: every session once per epoch, in an order that the seed and the epoch fix', async () => {
    const engine = await LogEngine.open({ memoryLimit: '256MB', threads: 1 });
    try {
      const files = await engine.files(join(dir, 'parts'));
      const read = async (epoch: number, seed: string) => {
        const seen: string[] = [];
        for await (const block of engine.shuffledBatches(files, epoch, seed, { batchRows: 500 })) {
          for (let s = 0; s < block.sessionQuery.length; s++)
            seen.push(
              `${block.sessionQuery[s]}:${Array.from(block.document.subarray(block.sessionOffsets[s], block.sessionOffsets[s + 1])).join(',')}:${Array.from(block.click.subarray(block.sessionOffsets[s], block.sessionOffsets[s + 1])).join('')}`,
            );
        }
        return seen;
      };
      const e0 = await read(0, 'x');
      const expected: string[] = [];
      for (const log of parts) {
        for (let s = 0; s < log.sessionQuery.length; s++)
          expected.push(
            `${log.sessionQuery[s]}:${Array.from(log.document.subarray(log.sessionOffsets[s], log.sessionOffsets[s + 1])).join(',')}:${Array.from(log.click.subarray(log.sessionOffsets[s], log.sessionOffsets[s + 1])).join('')}`,
          );
      }
      expect([...e0].sort()).toEqual([...expected].sort());
      expect(await read(0, 'x')).toEqual(e0);
      expect(await read(1, 'x')).not.toEqual(e0);
      expect(e0).not.toEqual(expected);
    } finally {
      engine.close();
    }
  });
});
