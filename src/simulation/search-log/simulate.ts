import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ClickLabError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { RankingData } from '../../core/types.js';
import type { LoggedClicks } from '../../data/click-log-table.js';
import type { ClickModel } from '../click-model.js';
import type { ClickModelSpec } from '../click-models/index.js';
import { relevanceProbabilities } from '../relevance.js';
import type { DisplayedLists } from '../sessions.js';
import type { ChunkRequest, ChunkResult, ChunkWorkerInput } from './chunk-worker.js';
import { chunkInSlot, copyChunk, sharedChunkSlot, simulateSearchChunk, type SearchWorld } from './chunk.js';

/**
 * Sessions per chunk. Each chunk draws from its own derived stream, so a log is the same whether it
 * is held in memory or streamed, and whichever worker simulates it; but the chunk size itself
 * defines the log (another size splits the streams differently), so it is a constant. 2^14 (a few
 * MB a chunk): workers share even small logs evenly, memory is freed and reused chunk by chunk
 * (1M-session chunks, hundreds of MB each, were mapped afresh every time and spent a quarter of
 * the single-thread time in page faults), and a message carries milliseconds of work. A top-10
 * chunk (164k rows) still makes a Parquet row group of the size ClickLogWriter recommends.
 */
export const SESSIONS_PER_CHUNK = 1 << 14;

export interface SearchLogSpec {
  /** What users are shown for each query (e.g. `fileOrderLists`, or a logging ranker's top results). */
  readonly lists: DisplayedLists;
  /** The length of the longest list users are shown (the click model's ranks). */
  readonly cutoff: number;
  /** `shuffle`: each session shows the logger's top `cutoff` in a uniformly random order (RandTop-n). */
  readonly intervention: 'none' | 'shuffle';
  /** Keep the hidden truth (examination, relevance probability) in each chunk; default true. */
  readonly truth?: boolean;
  /** P(click | examined) per grade (`relevanceTable`). */
  readonly relevance: Float64Array;
  readonly clickModel: ClickModel;
  /**
   * The plain spec `clickModel` was built from, `createClickModel(clickModelSpec, cutoff)`: worker
   * threads rebuild the model from it (a model object cannot be sent). Required with workers > 1.
   */
  readonly clickModelSpec?: ClickModelSpec;
  readonly sessions: number;
}

export interface SimulateSearchOptions {
  /**
   * Threads that simulate the chunks (default 1: this thread alone); n > 1 uses n − 1 worker
   * threads (kept from an earlier log in this process, or started), and this thread simulates
   * chunks too whenever it has none to hand to the sink. The
   * log is the same for any number. More than one needs the compiled library (dist/) and
   * `spec.clickModelSpec`.
   */
  readonly workers?: number;
  /**
   * The sink is done with a chunk once its promise resolves (it writes or reduces the chunk and
   * keeps no reference to its arrays): the later chunks are then written into its arrays, so a
   * log of any length allocates only the few chunks in flight (no page faults, no garbage).
   * Chunks from worker threads then come in shared memory (typed arrays on SharedArrayBuffers,
   * which a later chunk overwrites); without it they are copied into ordinary arrays for the sink
   * to keep. Default false.
   */
  readonly releaseChunks?: boolean;
}

/** The data set's own order: the first `cutoff` candidates of every query, as listed. */
export function fileOrderLists(data: RankingData, cutoff: number): DisplayedLists {
  const numQueries = data.queryOffsets.length - 1;
  const offsets = new Int32Array(numQueries + 1);
  for (let q = 0; q < numQueries; q++) offsets[q + 1] = offsets[q] + Math.min(cutoff, data.queryOffsets[q + 1] - data.queryOffsets[q]);
  const documents = new Int32Array(offsets[numQueries]);
  for (let q = 0; q < numQueries; q++) {
    for (let i = offsets[q]; i < offsets[q + 1]; i++) documents[i] = data.queryOffsets[q] + i - offsets[q];
  }
  return { offsets, documents };
}

const WORKER_ENTRY = new URL('./chunk-worker.js', import.meta.url);

/**
 * Simulate a search click log chunk by chunk (each SESSIONS_PER_CHUNK sessions, the last one
 * fewer; see `simulateSearchChunk`) and hand every chunk to `sink` in order, e.g. a
 * ClickLogWriter: memory stays bounded by a few chunks. With `workers` > 1 the chunks are
 * simulated in worker threads.
 */
export async function simulateSearchLog(
  data: RankingData,
  spec: SearchLogSpec,
  rng: RandomStream,
  sink: (chunk: LoggedClicks) => Promise<void> | void,
  options: SimulateSearchOptions = {},
): Promise<void> {
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be an integer ≥ 1, found ${workers}`);
  if (workers > 1 && spec.clickModelSpec === undefined) {
    throw new ClickLabError('simulating in worker threads needs spec.clickModelSpec, the plain spec the click model was built from');
  }
  if (workers > 1 && !existsSync(fileURLToPath(WORKER_ENTRY))) {
    // Under a TypeScript runner (vitest) there is no compiled worker file to start.
    throw new ClickLabError('worker threads need the compiled library (npm run build); simulate with workers = 1 from TypeScript sources');
  }
  const world: SearchWorld = {
    lists: spec.lists,
    relevance: relevanceProbabilities(data.labels, spec.relevance),
    clickModel: spec.clickModel,
    intervention: spec.intervention,
    truth: spec.truth ?? true,
  };
  const chunkSessions = Array.from({ length: Math.ceil(spec.sessions / SESSIONS_PER_CHUNK) }, (_, chunk) => Math.min(SESSIONS_PER_CHUNK, spec.sessions - chunk * SESSIONS_PER_CHUNK));
  const threads = Math.min(workers, chunkSessions.length);
  if (threads === 1) {
    let done: LoggedClicks | undefined; // a chunk the sink is done with, to write the next one into
    for (let chunk = 0; chunk < chunkSessions.length; chunk++) {
      const logged = simulateSearchChunk(world, rng, chunk, chunkSessions[chunk], done);
      await sink(logged);
      if (options.releaseChunks) done = logged;
    }
    return;
  }
  const input: ChunkWorkerInput = {
    seed: rng.seed,
    lists: world.lists,
    relevance: world.relevance,
    clickModel: spec.clickModelSpec!,
    cutoff: spec.cutoff,
    intervention: spec.intervention,
    truth: world.truth,
  };
  await simulateInThreads(world, rng, input, chunkSessions, threads, sink, options.releaseChunks ?? false);
}

/**
 * The parent's side of the parallel path, with `numThreads` − 1 worker threads and this one:
 * hands out chunk indices in order, hears which are finished and passes them to `sink` strictly
 * in chunk order, holding the ones that arrive early. A worker writes each chunk into a slot of
 * shared memory (`sharedChunkSlot`) that this thread names and reads in place: a message carries
 * only indices. (Transferring a chunk's 6–9 buffers each way instead cost 55–140 µs a message,
 * and this thread's garbage collector then freed them: together about as much CPU time as the
 * worker spent simulating.) Slots are made as needed and reused once the sink is done with their
 * chunk, so a run allocates only the few that are out at once. No lock is needed: a message is
 * delivered after everything its sender wrote before posting it (the port's queue is guarded by a
 * mutex), and a slot is used by one thread at a time: the worker from the 'simulate' message to its
 * 'chunk' message, then this thread until it hands the slot out again.
 * Whenever this thread has no chunk to hand to the sink it simulates the next chunk itself (into
 * ordinary arrays) rather than wait: it is already running and its code already compiled, while a
 * worker takes tens of milliseconds to load and tens more to compile its loops, and with a light
 * sink it would otherwise sit idle. A worker is handed chunks once it has loaded (before, this
 * thread simulates them) and a second one while it works on one, so it never waits for the
 * parent. No more than 4 chunks per thread are out at once (being simulated, or finished and
 * waiting for their turn), so memory stays bounded however slow the sink is; with 2, this thread,
 * having run ahead, sat idle a third of the time waiting for the worker's chunk at the head of the
 * line. This thread runs ahead only as far as leaves every worker room for 2 chunks (when it took
 * those, the worker sat idle a fifth of the time).
 */
async function simulateInThreads(
  world: SearchWorld,
  rng: RandomStream,
  input: ChunkWorkerInput,
  chunkSessions: number[],
  numThreads: number,
  sink: (chunk: LoggedClicks) => Promise<void> | void,
  releaseChunks: boolean,
): Promise<void> {
  const threads = Array.from({ length: numThreads - 1 }, () => idleWorkers.pop() ?? startWorker());
  for (const thread of threads) {
    thread.ref();
    thread.postMessage({ type: 'log', input } satisfies ChunkRequest);
  }
  const numChunks = chunkSessions.length;
  const maxOut = 4 * numThreads;
  // This thread leaves the last 2 slots per worker to the workers: taking them, it starved them.
  const maxOutHere = maxOut - 2 * threads.length;
  const ready = threads.map(() => false);
  const busy = threads.map(() => 0); // chunks handed to each worker and not yet finished
  // Shared chunk slots, those free, and which slots each worker has been sent the arrays of.
  const longest = world.lists.offsets.reduce((max, offset, q, offsets) => (q === 0 ? 0 : Math.max(max, offset - offsets[q - 1])), 0);
  const slots: LoggedClicks[] = [];
  const freeSlots: number[] = [];
  const sentSlots = threads.map(() => new Set<number>());
  const slotOf = new Map<number, number>(); // chunk → slot, for the chunks handed to workers
  const early = new Map<number, { logged: LoggedClicks; slot: number | null }>(); // finished chunks waiting for their turn
  const spare: LoggedClicks[] = []; // chunks of this thread's that the sink is done with
  let handedOut = 0;
  let sunk = 0;
  let failure: ClickLabError | null = null;
  let wake = () => {};
  const handOut = () => {
    for (let w = 0; w < threads.length; w++) {
      while (ready[w] && busy[w] < 2 && handedOut < numChunks && handedOut - sunk < maxOut) {
        const slot = freeSlots.pop() ?? slots.push(sharedChunkSlot(SESSIONS_PER_CHUNK, SESSIONS_PER_CHUNK * longest, world.truth)) - 1;
        const arrays = sentSlots[w].has(slot) ? undefined : slots[slot];
        sentSlots[w].add(slot);
        busy[w]++;
        slotOf.set(handedOut, slot);
        threads[w].postMessage({ type: 'simulate', chunk: handedOut, numSessions: chunkSessions[handedOut], slot, arrays } satisfies ChunkRequest);
        handedOut++;
      }
    }
  };
  const listeners = threads.map((thread, w) => {
    const onMessage = (message: ChunkResult) => {
      if (message.type === 'ready') {
        ready[w] = true;
      } else {
        busy[w]--;
        const slot = slotOf.get(message.chunk)!;
        slotOf.delete(message.chunk);
        early.set(message.chunk, { logged: chunkInSlot(slots[slot], chunkSessions[message.chunk]), slot });
      }
      handOut();
      wake();
    };
    const onError = (error: Error) => {
      failure ??= new ClickLabError(`a simulation worker failed: ${error.message}`);
      wake();
    };
    // A worker that stops without an 'error' event (e.g. killed) must not leave the log waiting forever.
    const onExit = (code: number) => {
      if (sunk < numChunks) failure ??= new ClickLabError(`a simulation worker exited (code ${code}) before the log was complete`);
      wake();
    };
    thread.on('message', onMessage).on('error', onError).on('exit', onExit);
    return { onMessage, onError, onExit };
  });
  let complete = false;
  try {
    while (sunk < numChunks) {
      if (failure) throw failure;
      const next = early.get(sunk);
      if (next !== undefined) {
        early.delete(sunk);
        if (next.slot === null) {
          await sink(next.logged);
          if (releaseChunks) spare.push(next.logged);
        } else if (releaseChunks) {
          await sink(next.logged);
          freeSlots.push(next.slot);
        } else {
          // The sink may keep the chunk: it gets its own copy, and the slot is free at once.
          const copy = copyChunk(next.logged);
          freeSlots.push(next.slot);
          await sink(copy);
        }
        sunk++;
        handOut();
      } else if (handedOut < numChunks && handedOut - sunk < maxOutHere) {
        const chunk = handedOut++;
        early.set(chunk, { logged: simulateSearchChunk(world, rng, chunk, chunkSessions[chunk], spare.pop()), slot: null });
        // Let the workers' messages in before the next chunk.
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
    // This thread may have simulated the whole log before a worker had loaded; a worker that
    // cannot load (an invalid spec, say) fails the run all the same, whatever the timing.
    while (!failure && ready.some((r) => !r)) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
    complete = true;
  } finally {
    threads.forEach((thread, w) => {
      thread.off('message', listeners[w].onMessage).off('error', listeners[w].onError).off('exit', listeners[w].onExit);
    });
    // After a complete log a worker has nothing in flight: it waits for the next log. After a
    // failure it may still be simulating, or have failed itself.
    if (complete) {
      for (const thread of threads) {
        thread.postMessage({ type: 'end' } satisfies ChunkRequest);
        thread.unref();
        idleWorkers.push(thread);
      }
    } else {
      await Promise.all(threads.map((thread) => thread.terminate()));
    }
  }
}

/**
 * Worker threads that finished a log, kept for the next one (unreferenced, so that they do not
 * keep the process alive): a new worker takes 30–40 ms to start and tens of milliseconds more to
 * compile its loops (its first chunks take 10 times as long as the later ones), time that
 * repeated logs in one process (experiments, the bench) would otherwise pay every time.
 */
const idleWorkers: Worker[] = [];

function startWorker(): Worker {
  const worker = new Worker(WORKER_ENTRY);
  // One that stops while idle is not handed a log.
  worker.on('exit', () => {
    const at = idleWorkers.indexOf(worker);
    if (at >= 0) idleWorkers.splice(at, 1);
  });
  return worker;
}
