import { ClickLabError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { ClickLog } from '../core/types.js';

/**
 * A click log prepared for fitting: every (query, document) pair mapped once to a dense id, so that
 * the EM sweeps read and write flat parameter arrays indexed by pair, never a map.
 * Sessions stay where the log has them (`offsets`); a fit or an evaluation walks a list of session
 * indices (the training or the test split).
 */
export interface IndexedLog {
  /** Length numSessions + 1, as `ClickLog.sessionOffsets`. */
  readonly offsets: Int32Array;
  /** Dense pair id of each row (slot). */
  readonly pair: Int32Array;
  /** 1 if the slot was clicked (a result is clicked at most once: repeated clicks are one). */
  readonly click: Uint8Array;
  /** Query and document of each pair id. */
  readonly pairQuery: Int32Array;
  readonly pairDocument: Int32Array;
  /** The longest session (the number of ranks a model needs). */
  readonly longestSession: number;
  /**
   * How many identical sessions each one stands for (the engine's distinct (query, ranking, click
   * pattern) groups, `sessionGroups` in data/engine.ts); absent: every session counts once. Every
   * EM sum and every evaluation sum multiplies a session's terms by it, so a weighted group gives the
   * same fit as its sessions repeated.
   */
  readonly weight?: Float64Array;
}

/**
 * Map a log's (query, document) pairs to dense ids 0 .. numPairs − 1 in order of first appearance,
 * with an open-addressing hash table on the two 32-bit keys. Rejects an empty log and a session
 * whose positions are not 0, 1, 2, ... in order (`source` names the log in messages).
 */
export function indexClickLog(log: ClickLog, source = 'click log'): IndexedLog {
  const numSessions = log.sessionQuery.length;
  if (numSessions === 0 || log.document.length === 0) throw new ClickLabError(`${source}: the log has no sessions with a displayed result; nothing to fit`);
  const offsets = log.sessionOffsets;
  let longest = 0;
  for (let s = 0; s < numSessions; s++) {
    const start = offsets[s];
    const length = offsets[s + 1] - start;
    if (length > longest) longest = length;
    for (let k = 0; k < length; k++) {
      if (log.position[start + k] !== k) {
        throw new ClickLabError(`${source}: session ${s} has a result at 0-based position ${log.position[start + k]} in slot ${k}; expected positions 0, 1, 2, ... in rank order`);
      }
    }
  }
  const table = new PairTable();
  const pair = new Int32Array(log.document.length);
  for (let s = 0; s < numSessions; s++) {
    const q = log.sessionQuery[s];
    for (let row = offsets[s]; row < offsets[s + 1]; row++) pair[row] = table.id(q, log.document[row]);
  }
  const click = new Uint8Array(log.click.length);
  for (let row = 0; row < click.length; row++) click[row] = log.click[row] > 0 ? 1 : 0;
  return { offsets, pair, click, pairQuery: table.queries(), pairDocument: table.documents(), longestSession: longest };
}

/** Open-addressing (linear probing) hash table from (query, document) to a dense id; grows at half load. */
class PairTable {
  private keysQ = new Int32Array(1 << 12);
  private keysD = new Int32Array(1 << 12);
  private ids = new Int32Array(1 << 12).fill(-1);
  private q = new Int32Array(1 << 10);
  private d = new Int32Array(1 << 10);
  private size = 0;

  id(query: number, document: number): number {
    const mask = this.ids.length - 1;
    let slot = hash(query, document) & mask;
    for (;;) {
      const id = this.ids[slot];
      if (id < 0) break;
      if (this.keysQ[slot] === query && this.keysD[slot] === document) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.size++;
    this.ids[slot] = id;
    this.keysQ[slot] = query;
    this.keysD[slot] = document;
    if (id >= this.q.length) {
      this.q = grow(this.q);
      this.d = grow(this.d);
    }
    this.q[id] = query;
    this.d[id] = document;
    if (2 * this.size > this.ids.length) this.rehash();
    return id;
  }

  queries(): Int32Array {
    return this.q.slice(0, this.size);
  }

  documents(): Int32Array {
    return this.d.slice(0, this.size);
  }

  private rehash(): void {
    const capacity = 2 * this.ids.length;
    const mask = capacity - 1;
    const keysQ = new Int32Array(capacity);
    const keysD = new Int32Array(capacity);
    const ids = new Int32Array(capacity).fill(-1);
    for (let id = 0; id < this.size; id++) {
      let slot = hash(this.q[id], this.d[id]) & mask;
      while (ids[slot] >= 0) slot = (slot + 1) & mask;
      ids[slot] = id;
      keysQ[slot] = this.q[id];
      keysD[slot] = this.d[id];
    }
    this.keysQ = keysQ;
    this.keysD = keysD;
    this.ids = ids;
  }
}

function hash(query: number, document: number): number {
  let h = Math.imul(query, 0x9e3779b1) ^ document;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

function grow(values: Int32Array): Int32Array {
  const out = new Int32Array(2 * values.length);
  out.set(values);
  return out;
}

/**
 * A seeded train/test split of sessions: exactly round(testFraction · n) sessions, drawn uniformly
 * without replacement, are held out; both lists are in log order. testFraction = 0 leaves the test
 * list empty.
 */
export function splitSessions(numSessions: number, testFraction: number, rng: RandomStream): { train: Int32Array; test: Int32Array } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError(`testFraction must be in [0, 1), found ${testFraction}`);
  const numTest = Math.round(testFraction * numSessions);
  if (numSessions - numTest < 1) throw new ClickLabError(`a test fraction of ${testFraction} leaves no training session out of ${numSessions}`);
  const isTest = new Uint8Array(numSessions);
  for (const s of rng.sampleWithoutReplacement(numSessions, numTest)) isTest[s] = 1;
  const train = new Int32Array(numSessions - numTest);
  const test = new Int32Array(numTest);
  let a = 0;
  let b = 0;
  for (let s = 0; s < numSessions; s++) {
    if (isTest[s]) test[b++] = s;
    else train[a++] = s;
  }
  return { train, test };
}

/** The rank of the last click in rows start .. start + n − 1, or −1 if none. */
export function lastClickRank(click: Uint8Array, start: number, n: number): number {
  for (let k = n - 1; k >= 0; k--) if (click[start + k]) return k;
  return -1;
}
