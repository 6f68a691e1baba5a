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
 * `simulate`: make chunk `chunk`. `release`: a chunk the parent is done with (its buffers
 * transferred back), whose arrays the next chunks here are written into (see `releaseChunks` in
 * simulate-search.ts).
 */
export type ChunkRequest =
  | { readonly type: 'simulate'; readonly chunk: number; readonly numSessions: number }
  | { readonly type: 'release'; readonly logged: LoggedClicks };

/** `ready`: the worker has loaded and takes chunks; `chunk`: a finished chunk. */
export type ChunkResult = { readonly type: 'ready' } | { readonly type: 'chunk'; readonly chunk: number; readonly logged: LoggedClicks };

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
// Released chunks, reused for the next ones: a worker then allocates (and page-faults) only the
// few chunks it has out at once, and frees nothing.
const spare: LoggedClicks[] = [];
port.on('message', (request: ChunkRequest) => {
  if (request.type === 'release') {
    spare.push(request.logged);
    return;
  }
  const logged = simulateSearchChunk(world, rng, request.chunk, request.numSessions, spare.pop());
  port.postMessage({ type: 'chunk', chunk: request.chunk, logged } satisfies ChunkResult, chunkBuffers(logged));
});
port.postMessage({ type: 'ready' } satisfies ChunkResult);
