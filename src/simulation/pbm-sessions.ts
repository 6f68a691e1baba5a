import type { RandomStream } from '../core/random.js';
import type { ClickLog, ClickLogTruth, DisplayedLists } from '../core/types.js';

/**
 * The rows of simulated PBM sessions, drawn without a click-model call per session: the same
 * clicks, byte for byte, as `PositionBasedModel.simulate` from the same streams, 2–3× faster.
 *
 * PBM draws one uniform u = x / 2^32 per slot (x the raw sfc32 output) and clicks when
 * u < κ_k · r_d. Both sides scale exactly by 2^32 in doubles, so the test is x < κ_k · r_d · 2^32,
 * with κ_k · 2^32 precomputed per rank and, without the shuffle, κ_k · r_d · 2^32 precomputed per
 * (query, rank) once for all the sessions of that query. The generator is stepped in local
 * variables (the same arithmetic as `RandomStream.nextUint32`) and its state written back at the end.
 */
export function simulatePbmRows(
  lists: DisplayedLists,
  /** The sessions (sessionQuery, sessionOffsets) are drawn; their rows are written here. */
  log: ClickLog,
  /** Written when given: examined when x < κ_k · 2^32; examination probability κ_k. */
  truth: ClickLogTruth | undefined,
  examination: Float64Array,
  relevance: Float32Array,
  clickRng: RandomStream,
  /** Shuffles each session's list (RandTop-k) when given. */
  orderRng: RandomStream | null,
): void {
  const { offsets, documents } = lists;
  const { sessionQuery, document, position, click } = log;
  const numSessions = sessionQuery.length;
  let longest = 0;
  for (let q = 0; q + 1 < offsets.length; q++) longest = Math.max(longest, offsets[q + 1] - offsets[q]);
  // Ranks past the end of κ reuse its last value, as in PositionBasedModel.
  const last = examination.length - 1;
  const kappa = Float64Array.from({ length: longest }, (_, k) => examination[k < last ? k : last]);
  const scaledKappa = kappa.map((v) => v * 4294967296);
  // κ_k · 2^32 · r_d equals κ_k · r_d · 2^32 exactly (a power-of-two factor only moves the exponent).
  const threshold = new Float64Array(documents.length);
  for (let q = 0; q + 1 < offsets.length; q++) {
    for (let i = offsets[q]; i < offsets[q + 1]; i++) threshold[i] = scaledKappa[i - offsets[q]] * relevance[documents[i]];
  }

  if (orderRng === null && truth === undefined) {
    // The common case, on its own, in blocks of sessions: see plainPbmBlock.
    const state = clickRng.getState();
    for (let s = 0, row = 0; s < numSessions; s += BLOCK_SESSIONS) {
      row = plainPbmBlock(state, sessionQuery, offsets, documents, threshold, document, position, click, s, Math.min(numSessions, s + BLOCK_SESSIONS), row);
    }
    clickRng.setState(state);
    return;
  }
  const state = clickRng.getState();
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let row = 0;
  const shuffle = orderRng !== null;
  for (let s = 0; s < numSessions; s++) {
    const q = sessionQuery[s];
    const from = offsets[q];
    const length = offsets[q + 1] - from;
    if (orderRng !== null) {
      for (let k = 0; k < length; k++) document[row + k] = documents[from + k];
      orderRng.shuffle(document, row, length);
    }
    for (let k = 0; k < length; k++, row++) {
      // sfc32, as in RandomStream.nextUint32.
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const x = t >>> 0;
      let doc: number;
      let limit: number;
      if (shuffle) {
        doc = document[row];
        limit = scaledKappa[k] * relevance[doc];
      } else {
        doc = documents[from + k];
        document[row] = doc;
        limit = threshold[from + k];
      }
      position[row] = k;
      click[row] = x < limit ? 1 : 0;
      if (truth !== undefined) {
        truth.examined[row] = x < scaledKappa[k] ? 1 : 0;
        truth.examinationProbability[row] = kappa[k];
        truth.relevanceProbability[row] = relevance[doc];
      }
    }
  }
  clickRng.setState(Int32Array.of(a, b, c, d));
}

/**
 * Sessions per call of plainPbmBlock. The loop lives in a small function called once per block,
 * not inline in one long loop, for V8: a long loop is compiled on the fly (on-stack replacement)
 * without type feedback for the code after it, which then deoptimises on exit, so every call of a
 * fresh process ran the slow tiers (3–4M sessions/s for its first ~1.4M sessions). Called per
 * block, the function is optimised whole after a few blocks and stays so.
 */
const BLOCK_SESSIONS = 1024;

/** PBM rows of sessions [from, to) without shuffle or truth, from row `row`; steps the sfc32 `state` in place; returns the next row. */
function plainPbmBlock(
  state: Int32Array,
  sessionQuery: Int32Array,
  offsets: Int32Array,
  documents: Int32Array,
  threshold: Float64Array,
  document: Int32Array,
  position: Uint16Array,
  click: Uint8Array,
  from: number,
  to: number,
  row: number,
): number {
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  for (let s = from; s < to; s++) {
    const q = sessionQuery[s];
    const first = offsets[q];
    const end = offsets[q + 1];
    for (let i = first; i < end; i++, row++) {
      // sfc32, as in RandomStream.nextUint32.
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      document[row] = documents[i];
      position[row] = i - first;
      click[row] = t >>> 0 < threshold[i] ? 1 : 0;
    }
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
  return row;
}
