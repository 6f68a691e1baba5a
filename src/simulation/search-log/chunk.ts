import type { RandomStream } from '../../core/random.js';
import type { LoggedClicks } from '../../data/click-log-table.js';
import type { ClickModel } from '../click-model.js';
import { reuseOrAllocate, simulateSessions, type DisplayedLists } from '../sessions.js';

/**
 * What every chunk of a search log is drawn from. Kept apart from simulate-search.ts so that a
 * worker thread can simulate chunks without loading TF.js (which only the logger's training needs).
 */
export interface SearchWorld {
  readonly lists: DisplayedLists;
  /** P(click | examined) for every document row. */
  readonly relevance: Float32Array;
  readonly clickModel: ClickModel;
  readonly intervention: 'none' | 'shuffle';
  /** Keep the hidden truth columns (they more than double a log's memory). */
  readonly truth: boolean;
}

/**
 * Chunk `chunk` of a search log: `numSessions` sessions drawn from `rng.derive('sessions', chunk)`,
 * so a chunk is the same whichever thread simulates it. The logging propensity of each row is the
 * probability that the logger shows that document at that position: 1 for a deterministic
 * ranking, 1/n for a shuffled list of n. `reuse`: a chunk the caller is done with, whose arrays
 * the new one may overwrite (see SessionOptions.reuse); the chunk is the same either way.
 */
export function simulateSearchChunk(world: SearchWorld, rng: RandomStream, chunk: number, numSessions: number, reuse?: LoggedClicks): LoggedClicks {
  const { log, truth } = simulateSessions(world.lists, {
    numSessions,
    clickModel: world.clickModel,
    relevance: world.relevance,
    rng: rng.derive('sessions', chunk),
    intervention: world.intervention,
    truth: world.truth,
    reuse,
  });
  const rows = log.document.length;
  const propensity = reuseOrAllocate(Float32Array, rows, reuse?.propensity);
  if (world.intervention === 'shuffle') {
    for (let s = 0; s < numSessions; s++) {
      const start = log.sessionOffsets[s];
      const end = log.sessionOffsets[s + 1];
      const p = Math.fround(1 / (end - start));
      for (let row = start; row < end; row++) propensity[row] = p;
    }
  } else {
    propensity.fill(1);
  }
  return { log, propensity, truth };
}

/**
 * Room for any chunk of up to `maxSessions` sessions and `maxRows` rows, each column on its own
 * SharedArrayBuffer (full-length views): a chunk slot that a worker thread simulates into
 * (`simulateSearchChunk(..., slot)` writes at the start of each buffer) and the parent reads in
 * place, so that only the chunk's index crosses between the threads, not its buffers.
 */
export function sharedChunkSlot(maxSessions: number, maxRows: number, truth: boolean): LoggedClicks {
  const shared = <T>(Type: { new (buffer: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number }, length: number): T => new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT));
  return {
    log: {
      sessionQuery: shared(Int32Array, maxSessions),
      sessionOffsets: shared(Int32Array, maxSessions + 1),
      document: shared(Int32Array, maxRows),
      position: shared(Uint16Array, maxRows),
      click: shared(Uint8Array, maxRows),
    },
    propensity: shared(Float32Array, maxRows),
    truth: truth ? { examinationProbability: shared(Float32Array, maxRows), relevanceProbability: shared(Float32Array, maxRows), examined: shared(Uint8Array, maxRows) } : undefined,
  };
}

/** The chunk of `numSessions` sessions that `simulateSearchChunk` wrote into `slot`: views of the first sessions and rows. */
export function chunkInSlot(slot: LoggedClicks, numSessions: number): LoggedClicks {
  const rows = slot.log.sessionOffsets[numSessions];
  const { log, propensity, truth } = slot;
  return {
    log: {
      sessionQuery: log.sessionQuery.subarray(0, numSessions),
      sessionOffsets: log.sessionOffsets.subarray(0, numSessions + 1),
      document: log.document.subarray(0, rows),
      position: log.position.subarray(0, rows),
      click: log.click.subarray(0, rows),
    },
    propensity: propensity!.subarray(0, rows),
    truth: truth && {
      examinationProbability: truth.examinationProbability.subarray(0, rows),
      relevanceProbability: truth.relevanceProbability.subarray(0, rows),
      examined: truth.examined.subarray(0, rows),
    },
  };
}

/** A copy of a chunk in ordinary arrays (`slice` allocates an ArrayBuffer whatever the source's buffer). */
export function copyChunk(logged: LoggedClicks): LoggedClicks {
  const { log, propensity, truth } = logged;
  return {
    log: { sessionQuery: log.sessionQuery.slice(), sessionOffsets: log.sessionOffsets.slice(), document: log.document.slice(), position: log.position.slice(), click: log.click.slice() },
    propensity: propensity?.slice(),
    truth: truth && { examinationProbability: truth.examinationProbability.slice(), relevanceProbability: truth.relevanceProbability.slice(), examined: truth.examined.slice() },
  };
}
