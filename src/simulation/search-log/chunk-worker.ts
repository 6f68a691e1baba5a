/**
 * Worker-thread entry: simulates the chunks of a search log that the parent asks for, one at a
 * time, each into the chunk slot (SharedArrayBuffers) that the parent names, and tells the parent
 * which chunk is done: no buffer is copied or transferred. A chunk is drawn from the seed and its
 * index only, so it does not depend on which worker simulates it. A worker serves one log at a
 * time and may serve several in turn (the parent keeps finished workers for its next log, with
 * their code loaded and compiled). Errors (an invalid click-model spec, say) are left uncaught:
 * the parent receives them as the worker's 'error' event.
 */
import { parentPort } from 'node:worker_threads';
import { randomStream, type RandomStream } from '../../core/random.js';
import type { LoggedClicks } from '../../data/click-log-table.js';
import { createClickModel, type ClickModelSpec } from '../click-models/index.js';
import type { DisplayedLists } from '../sessions.js';
import { simulateSearchChunk, type SearchWorld } from './chunk.js';

/** Plain data (structured-cloned once per log and worker) from which a worker rebuilds the SearchWorld. */
export interface ChunkWorkerInput {
  /** The seed string of the parent's random stream (`RandomStream.seed`). */
  readonly seed: string;
  readonly lists: DisplayedLists;
  readonly relevance: Float32Array;
  readonly clickModel: ClickModelSpec;
  readonly cutoff: number;
  readonly intervention: SearchWorld['intervention'];
  readonly truth: boolean;
}

/**
 * `log`: the next chunks are of this log (the worker answers `ready`); `end`: the log is complete
 * (the worker lets go of its data and slots while it waits for the next). `simulate`: make chunk
 * `chunk` in slot `slot` (`sharedChunkSlot`); `arrays`: the slot's arrays, sent the first time in
 * a log that this worker is handed that slot (they share the parent's memory). The parent hands a
 * slot out again only once it is done with the chunk in it.
 */
export type ChunkRequest =
  | { readonly type: 'log'; readonly input: ChunkWorkerInput }
  | { readonly type: 'end' }
  | { readonly type: 'simulate'; readonly chunk: number; readonly numSessions: number; readonly slot: number; readonly arrays?: LoggedClicks };

/** `ready`: the worker has the log and takes chunks; `chunk`: chunk `chunk` is in the slot it was asked for. */
export type ChunkResult = { readonly type: 'ready' } | { readonly type: 'chunk'; readonly chunk: number };

const port = parentPort!;
let world: SearchWorld | null = null;
let rng: RandomStream | null = null;
let slots: LoggedClicks[] = [];
const buffers = (l: LoggedClicks) => [...Object.values(l.log), l.propensity!, ...Object.values(l.truth ?? {})].map((c) => c.buffer);
port.on('message', (request: ChunkRequest) => {
  if (request.type === 'log') {
    const { input } = request;
    world = {
      lists: input.lists,
      relevance: input.relevance,
      clickModel: createClickModel(input.clickModel, input.cutoff, 'clickModelSpec'),
      intervention: input.intervention,
      truth: input.truth,
    };
    rng = randomStream(input.seed);
    slots = [];
    port.postMessage({ type: 'ready' } satisfies ChunkResult);
    return;
  }
  if (request.type === 'end') {
    world = null;
    rng = null;
    slots = [];
    return;
  }
  if (request.arrays) slots[request.slot] = request.arrays;
  const slot = slots[request.slot];
  const logged = simulateSearchChunk(world!, rng!, request.chunk, request.numSessions, slot);
  // The parent reads the chunk from the slot: a column that did not fit would be lost.
  const inSlot = buffers(slot);
  if (buffers(logged).some((buffer, i) => buffer !== inSlot[i])) throw new Error(`chunk ${request.chunk} does not fit its slot`);
  port.postMessage({ type: 'chunk', chunk: request.chunk } satisfies ChunkResult);
});
