/**
 * Sessions simulated on a fitted world's logged rankings, with memory independent of the world and
 * of the number of sessions: the rankings come as a stream of batches (from memory, or from a
 * Parquet world through DuckDB: fitting/parquet-world.ts), read once.
 *
 * Each session shows a logged ranking drawn in proportion to its logged sessions, independently of
 * the others. One pass over the rankings draws how many sessions each gets (a multinomial), from N
 * uniforms generated in increasing order (the order statistics of N uniforms: log(1 − U₍ᵢ₎) =
 * log(1 − U₍ᵢ₋₁₎) + log(Vᵢ) / (N − i + 1), Vᵢ uniform), each counted in the ranking whose share of
 * the cumulative logged sessions it falls in. The sessions then come out grouped by ranking, so
 * they are shuffled: every session goes to one of B buckets drawn uniformly (spilled to temporary
 * files when B > 1), and each bucket is shuffled in memory (Fisher–Yates) and written in turn. A
 * uniform bucket per element followed by a uniform permutation of each bucket is a uniform random
 * permutation of the whole, so the log is a sequence of independent sessions, as if each had drawn
 * its ranking on its own. The same world, seed and session count give the same log, byte for byte.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { ClickLog, ClickLogTruth } from '../core/types.js';
import type { LoggedClicks } from '../data/click-log-table.js';
import type { FittedParameters, FittedSimulator, SavedParameters } from './model.js';
import { fitterOf, type FittedModelType } from './registry.js';

/** A batch of consecutive rankings of a world, with what simulating sessions on them needs, per slot. */
export interface RankingBatch {
  /** Logged sessions of each ranking (positive). */
  readonly sessions: Float64Array;
  /** The query of each ranking. */
  readonly query: Int32Array;
  /** Ranking i's slots are offsets[i] .. offsets[i + 1] − 1, in rank order (offsets[0] = 0). */
  readonly offsets: Int32Array;
  readonly document: Int32Array;
  /** The logged probability of the slot's document at its position given the query (pscore). */
  readonly propensity: Float32Array;
  readonly attractiveness: Float64Array;
  /** The model's per-pair parameters (DBN's satisfaction), per slot. */
  readonly pairParameters: Readonly<Record<string, Float64Array>>;
}

/** A fitted world as the simulation reads it: the model's name and global parameters, and its rankings as a stream. */
export interface WorldRankings {
  readonly model: FittedModelType;
  readonly listLength: number;
  /** The parameters that are not per pair (PBM's examination, UBM's γ table, ...). */
  readonly parameters: FittedParameters;
  /** Σ logged sessions over all rankings. */
  readonly totalSessions: number;
  /** Where the world came from, for messages. */
  readonly file: string;
  /** The rankings in a fixed order, every time the same. */
  batches(): AsyncIterable<RankingBatch>;
}

/** A simulated chunk: the log, its pscore, and the hidden truth when asked for. */
export type SimulatedChunk = LoggedClicks & { readonly propensity: Float32Array; readonly truth?: ClickLogTruth };

export interface WorldSimulationOptions {
  /** Keep the truth columns (examination and relevance probabilities, examined). */
  readonly truth: boolean;
  /** Sessions per chunk handed to `write`. */
  readonly chunkSessions: number;
  /** Sessions per bucket (default 2^20): above it, buckets spill to files in `spillFolder`. */
  readonly bucketSessions?: number;
  /** Where buckets spill (default the system's temporary folder). */
  readonly spillFolder?: string;
  /** Called with the sessions drawn so far after each ranking batch ('drawn'), then with those written so far after each chunk ('written'). */
  readonly onProgress?: (phase: 'drawn' | 'written', sessions: number) => void;
}

const BUCKET_SESSIONS = 1 << 20;
/** Sessions held in memory across all buckets' buffers before they spill. */
const BUFFERED_SESSIONS = 1 << 18;

/**
 * `numSessions` sessions on the world's rankings (see the top of this file), handed to `write` in
 * chunks of `chunkSessions` sessions, in a uniformly random order.
 */
export async function simulateOnRankings(
  world: WorldRankings,
  numSessions: number,
  rng: RandomStream,
  write: (chunk: SimulatedChunk) => Promise<void>,
  options: WorldSimulationOptions,
): Promise<void> {
  if (!(world.totalSessions > 0)) throw new ConfigError(world.file, 'the world has no logged sessions to draw rankings from');
  const L = world.listLength;
  const bucketCount = Math.max(1, Math.ceil(numSessions / (options.bucketSessions ?? BUCKET_SESSIONS)));
  const folder = bucketCount > 1 ? mkdtempSync(join(options.spillFolder ?? tmpdir(), 'clicklab-world-')) : null;
  try {
    const buckets = Array.from({ length: bucketCount }, (_, b) =>
      folder === null ? new Bucket(numSessions, L, options.truth, null) : new Bucket(Math.max(256, Math.floor(BUFFERED_SESSIONS / bucketCount)), L, options.truth, join(folder, `${b}.bin`)),
    );
    const uniforms = orderedUniforms(numSessions, rng.derive('rankings'));
    const bucketRng = rng.derive('buckets');
    const clickRng = rng.derive('clicks');
    let u = uniforms();
    let cumulative = 0;
    let drawn = 0;
    const batches = world.batches()[Symbol.asyncIterator]();
    let current = await batches.next();
    while (!current.done) {
      const next = await batches.next();
      const batch = current.value;
      checkBatch(batch, L, world.file);
      const simulator = batchSimulator(world, batch);
      const slots = Int32Array.from({ length: batch.document.length }, (_, i) => i);
      const R = batch.sessions.length;
      for (let r = 0; r < R; r++) {
        cumulative += batch.sessions[r];
        // The last ranking takes every uniform left (against rounding of the cumulative shares).
        const bound = next.done && r === R - 1 ? Number.POSITIVE_INFINITY : cumulative / world.totalSessions;
        const from = batch.offsets[r];
        const n = batch.offsets[r + 1] - from;
        while (u < bound) {
          const bucket = buckets[bucketCount > 1 ? bucketRng.int(bucketCount) : 0];
          bucket.add(batch, r, from, n, simulator, slots, clickRng);
          drawn++;
          u = uniforms();
        }
      }
      options.onProgress?.('drawn', drawn);
      current = next;
    }
    let written = 0;
    const writeCounted = async (chunk: SimulatedChunk) => {
      await write(chunk);
      written += chunk.log.sessionQuery.length;
      options.onProgress?.('written', written);
    };
    for (let b = 0; b < bucketCount; b++) {
      const all = buckets[b].takeAll();
      await writeShuffled(all, rng.derive('order', b), options.chunkSessions, writeCounted);
    }
  } finally {
    if (folder !== null) rmSync(folder, { recursive: true, force: true });
  }
}

/** N uniforms in increasing order, one per call (then +∞), from the order statistics' recursion (top of this file). */
function orderedUniforms(n: number, rng: RandomStream): () => number {
  let logTail = 0; // log(1 − the previous uniform)
  let left = n;
  return () => {
    if (left === 0) return Number.POSITIVE_INFINITY;
    logTail += Math.log1p(-rng.uniform()) / left--;
    return -Math.expm1(logTail);
  };
}

/** The model restored on a batch's slots (slot i as pair i), its simulator ready for `prepare(slots, from, n)`. */
function batchSimulator(world: WorldRankings, batch: RankingBatch): FittedSimulator {
  const fail = (problem: string): never => {
    throw new ConfigError(world.file, problem);
  };
  const saved = savedParameters(world.parameters, world.listLength, batch.document.length, fail, batch.pairParameters);
  return fitterOf(world.model)!.restore(batch.attractiveness, saved).simulator();
}

/**
 * A saved model's parameters (`parameters` of a world's JSON) as its fitter reads them, each value
 * checked as it is read (a failure names the field); per-pair parameters from `perPair` where given.
 */
export function savedParameters(
  p: Readonly<Record<string, unknown>>,
  listLength: number,
  numPairs: number,
  fail: (problem: string) => never,
  perPair: Readonly<Record<string, Float64Array>> = {},
): SavedParameters {
  return {
    listLength,
    numPairs,
    probabilities(name, length) {
      const values = perPair[name] ?? probabilities(p[name], `parameters.${name}`, fail);
      if (values.length !== length) fail(`"parameters.${name}": expected ${length} values, found ${values.length}`);
      return values;
    },
    probability(name) {
      const value = p[name];
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(`"parameters.${name}": expected a probability, found ${JSON.stringify(value)}`);
      return value as number;
    },
    squareTable(name, size) {
      const rows = p[name];
      if (!Array.isArray(rows) || rows.length !== size) fail(`"parameters.${name}": expected a ${size} × ${size} table`);
      return (rows as unknown[]).map((row, k) => {
        const values = probabilities(row, `parameters.${name}[${k}]`, fail);
        if (values.length !== size) fail(`"parameters.${name}[${k}]": expected ${size} values, found ${values.length}`);
        return Array.from(values);
      });
    },
  };
}

/** An array of probabilities in [0, 1] (JSON numbers or a Float64Array), or a failure naming the first value that is not. */
export function probabilities(values: unknown, name: string, fail: (problem: string) => never): Float64Array {
  if (values instanceof Float64Array) {
    for (let i = 0; i < values.length; i++) if (!(values[i] >= 0 && values[i] <= 1)) fail(`"${name}[${i}]": expected a probability in [0, 1], found ${values[i]}`);
    return values;
  }
  if (!Array.isArray(values)) fail(`"${name}": expected an array of probabilities`);
  const out = new Float64Array((values as unknown[]).length);
  (values as unknown[]).forEach((v, i) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(`"${name}[${i}]": expected a probability in [0, 1], found ${JSON.stringify(v)}`);
    out[i] = v as number;
  });
  return out;
}

/** A batch's rankings have 1 to L slots and positive sessions, its probabilities lie in [0, 1]. */
function checkBatch(batch: RankingBatch, L: number, file: string): void {
  const fail = (problem: string): never => {
    throw new ConfigError(file, problem);
  };
  for (let r = 0; r < batch.sessions.length; r++) {
    const n = batch.offsets[r + 1] - batch.offsets[r];
    if (!(n >= 1 && n <= L)) fail(`a ranking of query ${batch.query[r]} has ${n} results; expected 1 to the list length ${L}`);
    if (!(batch.sessions[r] > 0 && Number.isFinite(batch.sessions[r]))) fail(`a ranking of query ${batch.query[r]} was logged in ${batch.sessions[r]} sessions; expected a positive count`);
  }
  for (const [name, values] of [['attractiveness', batch.attractiveness], ...Object.entries(batch.pairParameters)] as const) {
    for (let i = 0; i < values.length; i++) if (!(values[i] >= 0 && values[i] <= 1)) fail(`${name}: expected probabilities in [0, 1], found ${values[i]}`);
  }
}

/**
 * One bucket's sessions: a buffer of `capacity` sessions, spilled to `file` (if any) when full, as
 * raw records of its columns. Positions are not stored: a world's session shows ranks 0 .. n − 1.
 */
class Bucket {
  private sessions = 0;
  private rows = 0;
  private readonly query: Int32Array;
  private readonly length: Uint16Array;
  private readonly document: Int32Array;
  private readonly click: Uint8Array;
  private readonly propensity: Float32Array;
  private readonly relevance: Float32Array;
  private readonly examined: Uint8Array;
  private readonly examination: Float32Array;
  private readonly out: { click: Uint8Array; examined: Uint8Array; examinationProbability: Float32Array };
  private fd: number | null = null;

  constructor(
    private readonly capacity: number,
    listLength: number,
    private readonly truth: boolean,
    private readonly file: string | null,
  ) {
    const rows = capacity * listLength;
    this.query = new Int32Array(capacity);
    this.length = new Uint16Array(capacity);
    this.document = new Int32Array(rows);
    this.click = new Uint8Array(rows);
    this.propensity = new Float32Array(rows);
    this.relevance = new Float32Array(rows);
    this.examined = new Uint8Array(rows);
    this.examination = new Float32Array(rows);
    this.out = { click: this.click, examined: this.examined, examinationProbability: this.examination };
  }

  /** One session on ranking r of the batch (slots from .. from + n − 1), clicked by the batch's simulator. */
  add(batch: RankingBatch, r: number, from: number, n: number, simulator: FittedSimulator, slots: Int32Array, clickRng: RandomStream): void {
    if (this.sessions === this.capacity) this.spill();
    const start = this.rows;
    this.query[this.sessions] = batch.query[r];
    this.length[this.sessions++] = n;
    for (let k = 0; k < n; k++) {
      this.document[start + k] = batch.document[from + k];
      this.propensity[start + k] = batch.propensity[from + k];
      this.relevance[start + k] = batch.attractiveness[from + k];
    }
    simulator.prepare(slots, from, n);
    simulator.clickModel.simulate(this.relevance, start, n, clickRng, this.out);
    this.rows += n;
  }

  private columns(): ArrayBufferView[] {
    const S = this.sessions;
    const R = this.rows;
    const perRow = this.truth ? [this.relevance, this.examined, this.examination] : [];
    return [this.query.subarray(0, S), this.length.subarray(0, S), ...[this.document, this.click, this.propensity, ...perRow].map((c) => c.subarray(0, R))];
  }

  private spill(): void {
    if (this.file === null) throw new RangeError('a bucket held in memory is full');
    this.fd ??= openSync(this.file, 'w');
    writeSync(this.fd, new Uint8Array(Int32Array.of(this.sessions, this.rows).buffer));
    for (const c of this.columns()) writeSync(this.fd, new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    this.sessions = 0;
    this.rows = 0;
  }

  /** Every session of the bucket (spilled ones read back), in the order added. */
  takeAll(): BucketSessions {
    if (this.fd === null) return this.gather([this.columns()]);
    this.spill();
    closeSync(this.fd);
    const bytes = readFileSync(this.file!);
    rmSync(this.file!);
    const records: ArrayBufferView[][] = [];
    for (let at = 0; at < bytes.length; ) {
      const [S, R] = new Int32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + 8));
      at += 8;
      const take = <T extends ArrayBufferView>(make: (buffer: ArrayBuffer) => T, n: number, size: number): T => {
        const view = make(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + n * size));
        at += n * size;
        return view;
      };
      const record: ArrayBufferView[] = [
        take((b) => new Int32Array(b), S, 4),
        take((b) => new Uint16Array(b), S, 2),
        take((b) => new Int32Array(b), R, 4),
        take((b) => new Uint8Array(b), R, 1),
        take((b) => new Float32Array(b), R, 4),
      ];
      if (this.truth)
        record.push(
          take((b) => new Float32Array(b), R, 4),
          take((b) => new Uint8Array(b), R, 1),
          take((b) => new Float32Array(b), R, 4),
        );
      records.push(record);
    }
    return this.gather(records);
  }

  /** Records of columns concatenated (one record: its columns as they are). */
  private gather(records: ArrayBufferView[][]): BucketSessions {
    const cat = <T extends Int32Array | Uint16Array | Uint8Array | Float32Array>(j: number, make: (n: number) => T): T => {
      const parts = records.map((r) => r[j] as T);
      if (parts.length === 1) return parts[0];
      const out = make(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };
    return {
      query: cat(0, (n) => new Int32Array(n)),
      length: cat(1, (n) => new Uint16Array(n)),
      document: cat(2, (n) => new Int32Array(n)),
      click: cat(3, (n) => new Uint8Array(n)),
      propensity: cat(4, (n) => new Float32Array(n)),
      truth: this.truth
        ? { relevanceProbability: cat(5, (n) => new Float32Array(n)), examined: cat(6, (n) => new Uint8Array(n)), examinationProbability: cat(7, (n) => new Float32Array(n)) }
        : undefined,
    };
  }
}

interface BucketSessions {
  readonly query: Int32Array;
  readonly length: Uint16Array;
  readonly document: Int32Array;
  readonly click: Uint8Array;
  readonly propensity: Float32Array;
  readonly truth?: ClickLogTruth;
}

/** A bucket's sessions in a uniformly random order, in chunks of `chunkSessions`. */
async function writeShuffled(all: BucketSessions, rng: RandomStream, chunkSessions: number, write: (chunk: SimulatedChunk) => Promise<void>): Promise<void> {
  const S = all.query.length;
  const start = new Int32Array(S + 1);
  for (let s = 0; s < S; s++) start[s + 1] = start[s] + all.length[s];
  const order = rng.shuffle(Int32Array.from({ length: S }, (_, s) => s));
  for (let first = 0; first < S; first += chunkSessions) {
    const m = Math.min(chunkSessions, S - first);
    let rows = 0;
    for (let i = first; i < first + m; i++) rows += all.length[order[i]];
    const log: ClickLog = { sessionQuery: new Int32Array(m), sessionOffsets: new Int32Array(m + 1), document: new Int32Array(rows), position: new Uint16Array(rows), click: new Uint8Array(rows) };
    const propensity = new Float32Array(rows);
    const truth = all.truth ? { examinationProbability: new Float32Array(rows), relevanceProbability: new Float32Array(rows), examined: new Uint8Array(rows) } : undefined;
    for (let i = 0, row = 0; i < m; i++) {
      const s = order[first + i];
      const n = all.length[s];
      const from = start[s];
      log.sessionQuery[i] = all.query[s];
      log.sessionOffsets[i + 1] = row + n;
      for (let k = 0; k < n; k++) {
        log.document[row + k] = all.document[from + k];
        log.click[row + k] = all.click[from + k];
        log.position[row + k] = k;
        propensity[row + k] = all.propensity[from + k];
      }
      if (truth && all.truth) {
        for (let k = 0; k < n; k++) {
          truth.examinationProbability[row + k] = all.truth.examinationProbability[from + k];
          truth.relevanceProbability[row + k] = all.truth.relevanceProbability[from + k];
          truth.examined[row + k] = all.truth.examined[from + k];
        }
      }
      row += n;
    }
    await write(truth ? { log, propensity, truth } : { log, propensity });
  }
}
