/**
 * Worker-thread entry: simulates the chunks of a search log that the parent asks for, one at a
 * time, and posts each back with its buffers transferred (not copied). A chunk is drawn from the
 * seed and its index only, so it does not depend on which worker simulates it. Errors (an invalid
 * click-model spec, say) are left uncaught: the parent receives them as the worker's 'error' event.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { randomStream } from '../core/random.js';
import type { LoggedClicks } from '../data/click-log-table.js';
import { createClickModel, type ClickModelSpec } from '../simulation/click-models/index.js';
import type { DisplayedLists } from '../simulation/sessions.js';
import { chunkBuffers, simulateSearchChunk, type SearchWorld } from './search-chunk.js';

/** Plain data (structured-cloned once per worker) from which a worker rebuilds the SearchWorld. */
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
 * `simulate`: make chunk `chunk`. `release`: the buffers of a chunk the parent is done with,
 * handed back so that they are freed here (see `releaseChunks` in simulate-search.ts).
 */
export type ChunkRequest =
  | { readonly type: 'simulate'; readonly chunk: number; readonly numSessions: number }
  | { readonly type: 'release'; readonly buffers: ArrayBuffer[] };

export interface ChunkResult {
  readonly chunk: number;
  readonly logged: LoggedClicks;
}

const input = workerData as ChunkWorkerInput;
const world: SearchWorld = {
  lists: input.lists,
  relevance: input.relevance,
  clickModel: createClickModel(input.clickModel, input.cutoff, 'clickModelSpec'),
  intervention: input.intervention,
  truth: input.truth,
};
const rng = randomStream(input.seed);
const port = parentPort!;
port.on('message', (request: ChunkRequest) => {
  // Released buffers need nothing: dropping them lets this thread's next young-generation GC free them.
  if (request.type === 'release') return;
  const logged = simulateSearchChunk(world, rng, request.chunk, request.numSessions);
  port.postMessage({ chunk: request.chunk, logged } satisfies ChunkResult, chunkBuffers(logged));
});
