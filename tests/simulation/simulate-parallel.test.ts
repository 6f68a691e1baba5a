import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { LoggedClicks } from '../../src/data/click-log-table.js';
import { ClickLogWriter, readClickLog } from '../../src/data/index.js';
import { chunkInSlot, copyChunk, sharedChunkSlot, simulateSearchChunk, type SearchWorld } from '../../src/simulation/search-log/chunk.js';
import type * as SimulateSearch from '../../src/simulation/search-log/simulate.js';
import { createClickModel } from '../../src/simulation/click-models/index.js';
import { relevanceTable } from '../../src/simulation/relevance.js';
import { syntheticWorld } from '../helpers/synthetic.js';

// Worker threads run the compiled library: the CLI from dist/, and simulateSearchLog imported from
// dist/ (the copy under src/ refuses workers > 1). `npm test` builds dist/ first (pretest).
const cli = path.resolve('dist/cli/main.js');
const compiled = (): Promise<typeof SimulateSearch> => import(pathToFileURL(path.resolve('dist/simulation/search-log/simulate.js')).href);

const columns = (l: LoggedClicks) => [...Object.values(l.log), l.propensity!, ...Object.values(l.truth ?? {})].map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));

describe('simulating in worker threads', () => {
  it('writes the same log, byte for byte, with 1 and 2 workers', async () => {
    expect(existsSync(cli), 'npm test builds dist/ first (pretest)').toBe(true);
    const { SESSIONS_PER_CHUNK } = await compiled();
    // Three and a half chunks: every worker gets several, and the last chunk is a short one.
    const sessions = String(Math.round(3.5 * SESSIONS_PER_CHUNK));
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-parallel-'));
    const write = (workers: number, file: string, ...options: string[]) => {
      const out = path.join(dir, `w${workers}-${file}`);
      execFileSync(process.execPath, [cli, 'simulate', '--out', out, '--sessions', sessions, '--logger', 'file-order', '--workers', String(workers), '--quiet', ...options], { stdio: 'pipe' });
      return readFileSync(out);
    };
    // Parquet streams the chunks (and releases them to the workers); Arrow keeps and joins them.
    const options = ['--intervention', 'shuffle', '--click-model', 'dbn', '--truth'];
    expect(write(2, 'log.parquet', ...options).equals(write(1, 'log.parquet', ...options))).toBe(true);
    expect(write(2, 'log.arrow', ...options).equals(write(1, 'log.arrow', ...options))).toBe(true);
    // The joined chunks are the streamed log.
    const [streamed, joined] = await Promise.all(['w1-log.parquet', 'w2-log.arrow'].map((f) => readClickLog(path.join(dir, f), { truth: true })));
    expect(joined.log.sessionQuery.length).toBe(Number(sessions));
    const joinedColumns = columns(joined);
    columns(streamed).forEach((column, i) => {
      expect(column.equals(joinedColumns[i]), `column ${i}`).toBe(true);
    });
  });

  it('shares the chunks between this thread and a worker, reusing released chunks, with the chunks of one thread', async () => {
    const { SESSIONS_PER_CHUNK, fileOrderLists, simulateSearchLog } = await compiled();
    const world = syntheticWorld(40, 8, 3);
    for (const clickModelSpec of [{ type: 'pbm' }, { type: 'dbn' }] as const) {
      const spec: SimulateSearch.SearchLogSpec = {
        lists: fileOrderLists(world, 5),
        cutoff: 5,
        intervention: clickModelSpec.type === 'pbm' ? 'none' : 'shuffle',
        truth: clickModelSpec.type === 'dbn',
        relevance: relevanceTable({ mapping: 'linear', scale: 0.4, maxGrade: 2 }),
        clickModel: createClickModel(clickModelSpec, 5),
        clickModelSpec,
        sessions: Math.round(12.5 * SESSIONS_PER_CHUNK),
      };
      const run = async (workers: number) => {
        const copies: Buffer[][] = [];
        const originals: LoggedClicks[] = [];
        // A slow sink, so that the worker has loaded and takes chunks before this thread has made them all.
        const sink = async (chunk: LoggedClicks) => {
          copies.push(columns(chunk).map((c) => Buffer.from(c)));
          originals.push(chunk);
          await new Promise((resolve) => setTimeout(resolve, 25));
        };
        await simulateSearchLog(world, spec, randomStream(4), sink, { workers, releaseChunks: true });
        return { copies, originals };
      };
      const one = await run(1);
      const two = await run(2);
      expect(two.copies.length).toBe(13);
      two.copies.forEach((chunk, i) => {
        for (const [j, column] of chunk.entries()) expect(column.equals(one.copies[i][j]), `${clickModelSpec.type}: chunk ${i}, column ${j}`).toBe(true);
      });
      // The worker's chunks came in shared memory (chunk slots, reused once released); this
      // thread's own in ordinary arrays, overwritten by its later chunks.
      const shared = two.originals.filter((c) => c.log.click.buffer instanceof SharedArrayBuffer).length;
      expect(shared, clickModelSpec.type).toBeGreaterThan(0);
      expect(shared, clickModelSpec.type).toBeLessThan(13);
      expect(one.originals.some((c) => c.log.click.buffer instanceof SharedArrayBuffer)).toBe(false);
    }
  }, 30_000);

  it('writes chunks in shared memory (SharedArrayBuffer slots) as the same bytes as ordinary arrays, in every streamed format', async () => {
    const { SESSIONS_PER_CHUNK, fileOrderLists, simulateSearchLog } = await compiled();
    const clickModelSpec = { type: 'pbm' } as const;
    const world = syntheticWorld(30, 6, 5);
    const spec: SimulateSearch.SearchLogSpec = {
      lists: fileOrderLists(world, 4),
      cutoff: 4,
      intervention: 'shuffle',
      truth: true,
      relevance: relevanceTable({ mapping: 'linear', scale: 0.4, maxGrade: 2 }),
      clickModel: createClickModel(clickModelSpec, 4),
      clickModelSpec,
      sessions: Math.round(5.5 * SESSIONS_PER_CHUNK),
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-shared-'));
    const write = async (workers: number) => {
      const writers = await Promise.all(['csv', 'jsonl', 'parquet'].map((format) => ClickLogWriter.open(path.join(dir, `w${workers}.${format}`), { truth: true })));
      let shared = 0;
      // Slow enough that the worker has loaded and takes chunks before this thread has made them all.
      const sink = async (chunk: LoggedClicks) => {
        if (chunk.log.document.buffer instanceof SharedArrayBuffer) shared++;
        for (const writer of writers) await writer.write(chunk);
        await new Promise((resolve) => setTimeout(resolve, 20));
      };
      await simulateSearchLog(world, spec, randomStream(9), sink, { workers, releaseChunks: true });
      for (const writer of writers) await writer.close();
      return shared;
    };
    expect(await write(1)).toBe(0);
    expect(await write(2)).toBeGreaterThan(0);
    for (const format of ['csv', 'jsonl', 'parquet']) {
      expect(readFileSync(path.join(dir, `w2.${format}`)).equals(readFileSync(path.join(dir, `w1.${format}`))), format).toBe(true);
    }
  }, 30_000);

  it('simulates a chunk into a shared slot as into new arrays, over a larger chunk left in the slot', () => {
    const world: SearchWorld = {
      lists: { offsets: Int32Array.of(0, 3, 8, 10), documents: Int32Array.from({ length: 10 }, (_, i) => i) },
      relevance: Float32Array.from({ length: 10 }, (_, i) => (i % 4) / 4),
      clickModel: createClickModel({ type: 'pbm' }, 5),
      intervention: 'shuffle',
      truth: true,
    };
    const rng = randomStream(3);
    const slot = sharedChunkSlot(500, 500 * 5, true);
    simulateSearchChunk(world, rng, 0, 500, slot);
    const inSlot = chunkInSlot(simulateSearchChunk(world, rng, 1, 300, slot), 300);
    const fresh = simulateSearchChunk(world, rng, 1, 300);
    expect(inSlot.log.click.buffer).toBe(slot.log.click.buffer);
    expect(inSlot.log.document.length).toBe(fresh.log.document.length);
    columns(fresh).forEach((column, i) => {
      expect(Buffer.from(columns(inSlot)[i]).equals(column), `column ${i}`).toBe(true);
    });
    // The copy the sink may keep is in ordinary memory, with the same bytes.
    const copy = copyChunk(inSlot);
    expect(copy.log.click.buffer instanceof SharedArrayBuffer).toBe(false);
    columns(fresh).forEach((column, i) => {
      expect(columns(copy)[i].equals(column), `copy, column ${i}`).toBe(true);
    });
  });

  it('reports an error in a worker instead of waiting for it', async () => {
    const { SESSIONS_PER_CHUNK, fileOrderLists, simulateSearchLog } = await compiled();
    const spec: SimulateSearch.SearchLogSpec = {
      lists: fileOrderLists(syntheticWorld(30, 8, 2), 5),
      cutoff: 5,
      intervention: 'none',
      relevance: relevanceTable({ mapping: 'linear', scale: 0.4, maxGrade: 2 }),
      clickModel: createClickModel({ type: 'pbm' }, 5),
      // Only the workers build the model from this spec: here it is invalid.
      clickModelSpec: { type: 'pbm', eta: -1 },
      sessions: 4 * SESSIONS_PER_CHUNK,
    };
    await expect(simulateSearchLog(syntheticWorld(30, 8, 2), spec, randomStream(1), () => {}, { workers: 2 })).rejects.toThrow(
      /a simulation worker failed: clickModelSpec\.eta: expected a finite number ≥ 0, found -1/,
    );
    // This thread simulates chunks too, and may hand some (or all) to the sink before the worker
    // has failed to load: the run fails all the same.
  }, 10_000);

  it('stops the workers when the sink fails', async () => {
    const { SESSIONS_PER_CHUNK, fileOrderLists, simulateSearchLog } = await compiled();
    const clickModelSpec = { type: 'cascade' } as const;
    const spec: SimulateSearch.SearchLogSpec = {
      lists: fileOrderLists(syntheticWorld(30, 8, 2), 5),
      cutoff: 5,
      intervention: 'none',
      relevance: relevanceTable({ mapping: 'linear', scale: 0.4, maxGrade: 2 }),
      clickModel: createClickModel(clickModelSpec, 5),
      clickModelSpec,
      sessions: 8 * SESSIONS_PER_CHUNK,
    };
    let seen = 0;
    const sink = () => {
      if (++seen === 2) throw new Error('disk full');
    };
    await expect(simulateSearchLog(syntheticWorld(30, 8, 2), spec, randomStream(1), sink, { workers: 2 })).rejects.toThrow('disk full');
    expect(seen).toBe(2);
    // The next logs (with new workers, then with the one kept from the log before) are whole.
    const chunks = async (workers: number) => {
      const copies: Buffer[] = [];
      await simulateSearchLog(syntheticWorld(30, 8, 2), spec, randomStream(1), (chunk: LoggedClicks) => void copies.push(Buffer.concat(columns(chunk).map((c) => Buffer.from(c)))), { workers });
      return Buffer.concat(copies);
    };
    const one = await chunks(1);
    expect((await chunks(2)).equals(one)).toBe(true);
    expect((await chunks(2)).equals(one)).toBe(true);
  }, 10_000);
});
