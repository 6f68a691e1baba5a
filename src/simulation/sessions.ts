import type { RandomStream } from '../core/random.js';
import { MAX_LIST_LENGTH, type ClickLog, type ClickLogTruth, type DisplayedLists } from '../core/types.js';
import type { ClickModel } from './click-model.js';
import { PositionBasedModel } from './click-models/pbm.js';
import { simulatePbmRows } from './pbm-sessions.js';

export type { DisplayedLists } from '../core/types.js';

export interface SessionOptions {
  readonly numSessions: number;
  readonly clickModel: ClickModel;
  /** P(click | examined) for every document row of the data set. */
  readonly relevance: Float32Array;
  readonly rng: RandomStream;
  /**
   * `shuffle` randomises the order of each displayed list per session (the RandTop-k intervention
   * of Joachims et al. 2017), which makes every document equally likely at every rank so that the
   * click rate per rank is proportional to its examination probability. `swap` (RandPair,
   * Joachims et al. 2017) swaps, in half of the sessions, the result at rank 1 with the result at a
   * uniformly drawn rank k ≥ 2, and leaves the other half as logged.
   */
  readonly intervention?: 'none' | 'shuffle' | 'swap';
  /**
   * Keep the hidden truth (default true). Without it a log costs 7 bytes per displayed result plus
   * 8 per session (document, 16-bit position, click; query and offset per session); the truth adds 9.
   */
  readonly truth?: boolean;
  /**
   * A log that is no longer needed (e.g. the previous chunk of a stream, already written out)
   * whose arrays the new log may be written into, each where its buffer has room, instead of new
   * arrays: no allocation, page faults or garbage. The log is the same either way. Its columns
   * must not share a buffer (true of every log simulateSessions returns).
   */
  readonly reuse?: SimulatedLog;
}

export interface SimulatedLog {
  readonly log: ClickLog;
  /** Present unless the options asked for no truth. */
  readonly truth?: ClickLogTruth;
}

/**
 * Simulate sessions: each draws a query uniformly (among those that show at least one document),
 * displays its list (shuffled under the `shuffle` intervention) and lets the click model click.
 * Sessions without a click are kept: they are part of the log.
 */
export function simulateSessions(lists: DisplayedLists, options: SessionOptions & { readonly truth?: true }): Required<SimulatedLog>;
export function simulateSessions(lists: DisplayedLists, options: SessionOptions): SimulatedLog;
export function simulateSessions(lists: DisplayedLists, options: SessionOptions): SimulatedLog {
  const { numSessions, clickModel, relevance, rng } = options;
  const shuffle = options.intervention === 'shuffle';
  const swap = options.intervention === 'swap';
  const numQueries = lists.offsets.length - 1;
  // Plain loops: a chunk of a streamed log repeats this for every 2^14 sessions.
  let numEligible = 0;
  const all = new Int32Array(numQueries);
  for (let q = 0; q < numQueries; q++) {
    const length = lists.offsets[q + 1] - lists.offsets[q];
    if (length > MAX_LIST_LENGTH) throw new RangeError(`query ${q} shows more than ${MAX_LIST_LENGTH} results: positions are 16-bit`);
    if (length > 0) all[numEligible++] = q;
  }
  if (numEligible === 0) throw new RangeError('no query has a document to display');
  const eligible = all.subarray(0, numEligible);

  const queryRng = rng.derive('queries');
  const orderRng = rng.derive('order');
  const clickRng = rng.derive('clicks');
  const old = options.reuse;
  if (old) checkDistinctBuffers(old);
  const sessionQuery = reuseOrAllocate(Int32Array, numSessions, old?.log.sessionQuery);
  const sessionOffsets = reuseOrAllocate(Int32Array, numSessions + 1, old?.log.sessionOffsets);
  drawQueries(lists, eligible, queryRng, sessionQuery, sessionOffsets);
  const rows = sessionOffsets[numSessions];
  const document = reuseOrAllocate(Int32Array, rows, old?.log.document);
  const position = reuseOrAllocate(Uint16Array, rows, old?.log.position);
  const click = reuseOrAllocate(Uint8Array, rows, old?.log.click);
  const log = { sessionQuery, sessionOffsets, document, position, click };
  const keepTruth = options.truth !== false;
  const truth = keepTruth
    ? {
        examinationProbability: reuseOrAllocate(Float32Array, rows, old?.truth?.examinationProbability),
        relevanceProbability: reuseOrAllocate(Float32Array, rows, old?.truth?.relevanceProbability),
        examined: reuseOrAllocate(Uint8Array, rows, old?.truth?.examined),
      }
    : undefined;

  // (The swap intervention takes the general path below.)
  if (clickModel instanceof PositionBasedModel && !swap) {
    // PBM's slots are independent given κ: the fast path draws the same clicks (pbm-sessions.ts).
    simulatePbmRows(lists, log, truth, clickModel.examination, relevance, clickRng, shuffle ? orderRng : null);
    return truth ? { log, truth } : { log };
  }

  // A reused array holds the old log: start from zeros, as a new one does, whatever the model writes.
  if (old) for (const column of [click, truth?.examined, truth?.examinationProbability]) column?.fill(0);
  // With truth, the click model writes straight into the log's truth columns; without, into
  // per-session scratch buffers (at offset 0) whose clicks are copied out.
  let longest = 0;
  for (const q of eligible) longest = Math.max(longest, lists.offsets[q + 1] - lists.offsets[q]);
  const slotRelevance = truth ? truth.relevanceProbability : new Float32Array(longest);
  const out = truth
    ? { click, examined: truth.examined, examinationProbability: truth.examinationProbability }
    : { click: new Uint8Array(longest), examined: new Uint8Array(longest), examinationProbability: new Float32Array(longest) };
  for (let s = 0; s < numSessions; s++) {
    const q = sessionQuery[s];
    const start = sessionOffsets[s];
    const length = sessionOffsets[s + 1] - start;
    const from = lists.offsets[q];
    // Plain loops rather than set(subarray(...)): no view object per session in the hot loop.
    for (let k = 0; k < length; k++) document[start + k] = lists.documents[from + k];
    if (shuffle) orderRng.shuffle(document, start, length);
    if (swap && length > 1 && orderRng.uniform() < 0.5) {
      const k = start + 1 + orderRng.int(length - 1);
      const first = document[start];
      document[start] = document[k];
      document[k] = first;
    }
    const base = truth ? start : 0;
    for (let k = 0; k < length; k++) {
      position[start + k] = k;
      slotRelevance[base + k] = relevance[document[start + k]];
    }
    clickModel.simulate(slotRelevance, base, length, clickRng, out);
    if (!truth) for (let k = 0; k < length; k++) click[start + k] = out.click[k];
  }
  return truth ? { log, truth } : { log };
}

type Column = Int32Array | Uint16Array | Uint8Array | Float32Array;

/**
 * A `length`-long view at the start of `old`'s buffer where it has room (overwriting it), else a
 * new array. The buffer may be shared (a SharedArrayBuffer): a worker thread then writes its chunk
 * where the parent reads it (see simulate-search.ts).
 */
export function reuseOrAllocate<T extends Column>(
  Type: { new (length: number): T; new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
  old: T | undefined,
): T {
  if (old === undefined || old.buffer.byteLength < length * Type.BYTES_PER_ELEMENT) return new Type(length);
  return new Type(old.buffer, 0, length);
}

function checkDistinctBuffers(old: SimulatedLog): void {
  const columns: Column[] = [...Object.values(old.log), ...Object.values(old.truth ?? {})];
  if (new Set(columns.map((c) => c.buffer)).size < columns.length) throw new RangeError('options.reuse: the log to reuse has columns that share a buffer');
}

/**
 * The query of every session, uniform over `eligible` (`queryRng.int(eligible.length)` per
 * session, with the generator stepped in local variables as in pbm-sessions.ts), and where each
 * session's rows start.
 */
function drawQueries(lists: DisplayedLists, eligible: Int32Array, queryRng: RandomStream, sessionQuery: Int32Array, sessionOffsets: Int32Array): void {
  const n = eligible.length;
  const state = queryRng.getState();
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let end = 0;
  sessionOffsets[0] = 0;
  for (let s = 0; s < sessionQuery.length; s++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    // = RandomStream.int(n): floor(uniform · n).
    const q = eligible[Math.floor(((t >>> 0) / 4294967296) * n)];
    sessionQuery[s] = q;
    end += lists.offsets[q + 1] - lists.offsets[q];
    sessionOffsets[s + 1] = end;
  }
  queryRng.setState(Int32Array.of(a, b, c, d));
}
