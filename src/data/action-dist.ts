/**
 * An evaluation policy's action distribution in the Open Bandit Pipeline's layout, `action_dist`:
 * π_e(action | round, position) as rounds × actions × positions (C order: value of round i,
 * action a, position k at `(i · A + a) · K + k`), read from and written to files.
 *
 * Files read:
 * - `.npy`: a float64 (`<f8`) or float32 (`<f4`) array, C order, of shape (n_rounds, n_actions,
 *   n_positions), as `np.save('pi.npy', action_dist)` writes OBP's array.
 * - `.parquet`: the long layout, one row per (round, action, position) with the integer columns
 *   `round`, `action`, `position` (0-based, the array's indices) and the float column `prob`.
 *   Rows may come in any order; a triple that is absent has probability 0; a triple twice is an
 *   error.
 *
 * `readActionDistribution` holds the whole array in memory as float64: rounds × actions × positions
 * × 8 bytes (8.2 MB for the shipped 10,000-row men sample: 34 items × 3 positions), the array the
 * estimators take anyway. A streamed log reads either layout a batch of rounds at a time
 * (`openActionDistRounds`), with the same checks per batch.
 *
 * Checks, each a one-line `DataFormatError` naming the file: the shape equals the log's (rounds =
 * its rows, actions = its items, positions = its positions), every value is finite and in [0, 1],
 * and Σ_action π = 1 within 1e-6 at every (round, position); the first bad round and position
 * (0-based) and the sum found are named.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { extname } from 'node:path';
import { type AsyncBuffer, asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, type FileMetaData } from 'hyparquet';
import { ConfigError, DataFormatError } from '../core/errors.js';
import { refuseFolderInput, writeFileAtomic } from '../core/files.js';
import { parseNpyHeader } from './npz.js';

export interface ActionDistShape {
  readonly rounds: number;
  readonly actions: number;
  readonly positions: number;
}

/** Tolerance of the per-(round, position) sum check. */
export const ACTION_DIST_SUM_TOLERANCE = 1e-6;

const LAYOUTS =
  ".npy (float64 or float32, C order, shape (n_rounds, n_actions, n_positions), OBP's action_dist) or .parquet (long layout: integer columns round, action, position, 0-based, and a float column prob)";

/** Reads and checks an action distribution file against the log's shape (see the top of this file). */
export async function readActionDistribution(file: string, shape: ActionDistShape): Promise<Float64Array> {
  await refuseFolderInput(file);
  const ext = extname(file).toLowerCase();
  let values: Float64Array;
  if (ext === '.npy') values = await readNpy(file, shape);
  else if (ext === '.parquet') values = await readParquet(file, shape);
  else throw new ConfigError('--action-dist', `expected ${LAYOUTS}, found a file named '${file}'`);
  checkActionDistribution(file, values, shape);
  return values;
}

/** Throws a one-line error at the first value outside [0, 1] (or not finite), or the first (round, position) whose sum over actions is not 1. */
export function checkActionDistribution(file: string, values: Float64Array, shape: ActionDistShape, firstRound = 0): void {
  const { rounds: n, actions: A, positions: K } = shape;
  const sums = new Float64Array(K);
  for (let r = 0; r < n; r++) {
    const i = firstRound + r;
    sums.fill(0);
    const base = r * A * K;
    for (let a = 0; a < A; a++) {
      for (let k = 0; k < K; k++) {
        const p = values[base + a * K + k];
        if (!(p >= 0 && p <= 1)) {
          throw new DataFormatError(file, null, `expected probabilities in [0, 1], found ${p} at round ${i}, action ${a}, position ${k} (0-based)`);
        }
        sums[k] += p;
      }
    }
    for (let k = 0; k < K; k++) {
      if (Math.abs(sums[k] - 1) > ACTION_DIST_SUM_TOLERANCE) {
        throw new DataFormatError(
          file,
          null,
          `expected the probabilities over the ${A} actions to sum to 1 (±${ACTION_DIST_SUM_TOLERANCE}) at every round and position, found ${sums[k]} at round ${i}, position ${k} (0-based)`,
        );
      }
    }
  }
}

/** An action distribution read a batch of rounds at a time (a streamed log): `.npy` or `.parquet`. */
export interface ActionDistRounds {
  /** Rounds first .. first + count − 1, rounds × actions × positions as float64, checked as `readActionDistribution` checks the whole. */
  read(first: number, count: number): Promise<Float64Array>;
  /** Once the log (`rows` rows) has been read: checks the file has no round beyond it. */
  finish(rows: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens `file` (`.npy` or the long `.parquet` layout) for reading a batch of rounds at a time. */
export async function openActionDistRounds(file: string, shape: Omit<ActionDistShape, 'rounds'>): Promise<ActionDistRounds> {
  const ext = extname(file).toLowerCase();
  if (ext === '.parquet') return ParquetRounds.open(file, shape);
  if (ext === '.npy') return NpyRounds.open(file, { ...shape, rounds: null });
  throw new ConfigError('--action-dist', `expected ${LAYOUTS}, found a file named '${file}'`);
}

/**
 * A `.npy` action distribution read a slice of rounds at a time (C order: a round's values are
 * contiguous), for logs too large to hold it: the header and size are checked on `open`, each slice
 * as `readActionDistribution` checks the whole (its rounds numbered in the whole file).
 */
export class NpyRounds implements ActionDistRounds {
  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly shape: ActionDistShape,
    private readonly dataOffset: number,
    private readonly width: 4 | 8,
  ) {}

  /** Opens `file`; `shape.rounds` null takes the file's (the caller checks it against the log's rows at the end). */
  static async open(file: string, shape: Omit<ActionDistShape, 'rounds'> & { readonly rounds: number | null }): Promise<NpyRounds> {
    await refuseFolderInput(file);
    if (extname(file).toLowerCase() !== '.npy') throw new ConfigError('--action-dist', `expected a .npy file to read a slice of rounds at a time (a streamed log), found '${file}'`);
    const handle = await open(file, 'r');
    try {
      const { full, dataOffset, width } = await checkedNpyLayout(handle, file, shape);
      return new NpyRounds(file, handle, full, dataOffset, width);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Rounds in the file. */
  get rounds(): number {
    return this.shape.rounds;
  }

  /** Rounds first .. first + count − 1, rounds × actions × positions as float64, checked. */
  async read(first: number, count: number): Promise<Float64Array> {
    if (first + count > this.shape.rounds) {
      throw new DataFormatError(this.file, null, `expected one round per row of the log, found ${this.shape.rounds} rounds for a log of at least ${first + count} rows`);
    }
    const per = this.shape.actions * this.shape.positions;
    const raw = this.width === 8 ? new Float64Array(count * per) : new Float32Array(count * per);
    const bytes = new Uint8Array(raw.buffer);
    const start = this.dataOffset + first * per * this.width;
    for (let at = 0; at < bytes.length; ) {
      const { bytesRead } = await this.handle.read(bytes, at, bytes.length - at, start + at);
      if (bytesRead === 0) throw new DataFormatError(this.file, null, `expected ${bytes.length} data bytes at round ${first}, found the file ends`);
      at += bytesRead;
    }
    const values = raw instanceof Float64Array ? raw : Float64Array.from(raw);
    checkActionDistribution(this.file, values, { ...this.shape, rounds: count }, first);
    return values;
  }

  /** Checks, once the log has been read, that the file has one round per row. */
  finish(rows: number): Promise<void> {
    if (this.shape.rounds !== rows) {
      throw new ConfigError('--action-dist', `expected one round per row of the log (${rows} rows), found ${this.shape.rounds} rounds in ${this.file}`);
    }
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function shapeText(shape: ActionDistShape): string {
  return `(${shape.rounds}, ${shape.actions}, ${shape.positions})`;
}

/**
 * The header of an open `.npy` file checked against `shape` (rounds null: the file's): float64 or
 * float32, rounds × actions × positions, and exactly as many data bytes; one-line errors naming the file.
 */
async function checkedNpyLayout(
  handle: FileHandle,
  file: string,
  shape: Omit<ActionDistShape, 'rounds'> & { readonly rounds: number | null },
): Promise<{ readonly full: ActionDistShape; readonly dataOffset: number; readonly width: 4 | 8 }> {
  const { size: fileSize } = await handle.stat();
  const head = Buffer.alloc(Math.min(fileSize, 1 << 16));
  await handle.read(head, 0, head.length, 0);
  const header = parseNpyHeader(head, file);
  if (header.dtype !== '<f8' && header.dtype !== '<f4') throw new DataFormatError(file, null, `expected a float64 or float32 array, found dtype ${header.dtype} (expected ${LAYOUTS})`);
  const found = header.shape;
  const full = { ...shape, rounds: shape.rounds ?? (found.length === 3 ? found[0] : -1) };
  if (found.length !== 3 || found[0] !== full.rounds || found[1] !== shape.actions || found[2] !== shape.positions) {
    const expected = shape.rounds === null ? `(rounds, ${shape.actions}, ${shape.positions})` : shapeText(full);
    throw new DataFormatError(file, null, `expected shape ${expected} (the log's rows × items × positions), found (${found.join(', ')}${found.length === 1 ? ',' : ''})`);
  }
  const width = header.dtype === '<f8' ? 8 : 4;
  const count = full.rounds * shape.actions * shape.positions;
  if (fileSize !== header.dataOffset + count * width) {
    throw new DataFormatError(file, null, `expected ${count * width} data bytes for shape ${shapeText(full)} of ${header.dtype}, found ${fileSize - header.dataOffset} (truncated or padded)`);
  }
  return { full, dataOffset: header.dataOffset, width };
}

async function readNpy(file: string, shape: ActionDistShape): Promise<Float64Array> {
  const handle = await open(file, 'r');
  try {
    const { dataOffset, width } = await checkedNpyLayout(handle, file, shape);
    const count = shape.rounds * shape.actions * shape.positions;
    const raw = width === 8 ? new Float64Array(count) : new Float32Array(count);
    const bytes = new Uint8Array(raw.buffer);
    for (let at = 0; at < bytes.length; ) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(bytes.length - at, 1 << 24), dataOffset + at);
      if (bytesRead === 0) throw new DataFormatError(file, null, `expected ${bytes.length} data bytes, found the file ends after ${at}`);
      at += bytesRead;
    }
    return raw instanceof Float64Array ? raw : Float64Array.from(raw);
  } finally {
    await handle.close();
  }
}

const PARQUET_COLUMNS = ['round', 'action', 'position', 'prob'] as const;

/** The Parquet file's metadata, with the long layout's columns checked. */
async function openLongParquet(file: string): Promise<{ buffer: AsyncBuffer; metadata: FileMetaData }> {
  await refuseFolderInput(file);
  const buffer = await asyncBufferFromFile(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new DataFormatError(file, null, `expected a Parquet file, found data that does not decode (${(error as Error).message})`);
  }
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  const missing = PARQUET_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new DataFormatError(
      file,
      null,
      `expected the columns round, action, position, prob (the long layout), missing ${missing.join(', ')}; found columns ${columns.map((c) => `'${c}'`).join(', ')}`,
    );
  }
  return { buffer, metadata };
}

async function readParquet(file: string, shape: ActionDistShape): Promise<Float64Array> {
  const { buffer, metadata } = await openLongParquet(file);
  const { rounds: n, actions: A, positions: K } = shape;
  const values = new Float64Array(n * A * K);
  const seen = new Uint8Array(n * A * K);
  let row = 0;
  for (const group of metadata.row_groups) {
    const end = row + Number(group.num_rows);
    let objects: Record<string, unknown>[];
    try {
      objects = await parquetReadObjects({ file: buffer, metadata, columns: [...PARQUET_COLUMNS], rowStart: row, rowEnd: end });
    } catch (error) {
      throw new DataFormatError(file, null, `expected Parquet rows ${row + 1}–${end} to decode, found an error (${(error as Error).message})`);
    }
    for (const o of objects) {
      row++;
      const index = (name: 'round' | 'action' | 'position', limit: number): number => {
        const v = o[name];
        const x = typeof v === 'bigint' ? Number(v) : v;
        if (!(typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < limit)) {
          throw new DataFormatError(file, null, `expected an integer ${name} in [0, ${limit - 1}] (shape ${shapeText(shape)}: the log's rows × items × positions), found ${String(v)} in row ${row}`);
        }
        return x;
      };
      const i = index('round', n);
      const a = index('action', A);
      const k = index('position', K);
      const at = (i * A + a) * K + k;
      if (seen[at] === 1) throw new DataFormatError(file, null, `expected each (round, action, position) once, found (${i}, ${a}, ${k}) again in row ${row}`);
      seen[at] = 1;
      const p = o.prob;
      values[at] = typeof p === 'number' ? p : typeof p === 'bigint' ? Number(p) : Number.NaN;
    }
  }
  return values;
}

/** One row group of the long layout, decoded. */
interface LongRows {
  readonly round: Float64Array;
  readonly action: Float64Array;
  readonly position: Float64Array;
  readonly prob: Float64Array;
}

/**
 * The long Parquet layout read a batch of rounds at a time: only the row groups whose `round`
 * statistics (min, max) overlap the batch are decoded (every group, where a file has no statistics),
 * the last one decoded is kept for the next batch. A file written sorted by round (`COPY (... ORDER BY
 * round)`) is thus read once over the log; one in another order is read once per batch. Each row is
 * checked when its group is decoded (integer round ≥ 0, action and position in range), each batch's
 * rounds as `readActionDistribution` checks the whole (values in [0, 1], sums 1, no triple twice).
 */
export class ParquetRounds implements ActionDistRounds {
  private cached: { group: number; rows: LongRows } | null = null;

  private constructor(
    private readonly file: string,
    private readonly buffer: AsyncBuffer,
    private readonly metadata: FileMetaData,
    private readonly shape: Omit<ActionDistShape, 'rounds'>,
    /** Per row group: its first row in the file, its rows, and its rounds' min and max (±∞ unknown). */
    private readonly groups: { start: number; rows: number; min: number; max: number }[],
  ) {}

  static async open(file: string, shape: Omit<ActionDistShape, 'rounds'>): Promise<ParquetRounds> {
    const { buffer, metadata } = await openLongParquet(file);
    let start = 0;
    const groups = metadata.row_groups.map((group) => {
      const column = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === 'round');
      const stats = column?.meta_data?.statistics;
      const bound = (v: unknown, fallback: number): number => (typeof v === 'number' || typeof v === 'bigint' ? Number(v) : fallback);
      const entry = { start, rows: Number(group.num_rows), min: bound(stats?.min_value ?? stats?.min, -Infinity), max: bound(stats?.max_value ?? stats?.max, Infinity) };
      start += entry.rows;
      return entry;
    });
    return new ParquetRounds(file, buffer, metadata, shape, groups);
  }

  private async decode(g: number): Promise<LongRows> {
    if (this.cached?.group === g) return this.cached.rows;
    const { start, rows: count } = this.groups[g];
    let objects: Record<string, unknown>[];
    try {
      objects = await parquetReadObjects({ file: this.buffer, metadata: this.metadata, columns: [...PARQUET_COLUMNS], rowStart: start, rowEnd: start + count });
    } catch (error) {
      throw new DataFormatError(this.file, null, `expected Parquet rows ${start + 1}–${start + count} to decode, found an error (${(error as Error).message})`);
    }
    const rows: LongRows = { round: new Float64Array(count), action: new Float64Array(count), position: new Float64Array(count), prob: new Float64Array(count) };
    const limits = { round: Infinity, action: this.shape.actions, position: this.shape.positions };
    objects.forEach((o, r) => {
      for (const name of ['round', 'action', 'position'] as const) {
        const v = o[name];
        const x = typeof v === 'bigint' ? Number(v) : v;
        if (!(typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < limits[name])) {
          const range = name === 'round' ? 'an integer round ≥ 0' : `an integer ${name} in [0, ${limits[name] - 1}] (the log's ${name === 'action' ? 'items' : 'positions'})`;
          throw new DataFormatError(this.file, null, `expected ${range}, found ${String(v)} in row ${start + r + 1}`);
        }
        rows[name][r] = x;
      }
      const p = o.prob;
      rows.prob[r] = typeof p === 'number' ? p : typeof p === 'bigint' ? Number(p) : Number.NaN;
    });
    this.cached = { group: g, rows };
    return rows;
  }

  async read(first: number, count: number): Promise<Float64Array> {
    const { actions: A, positions: K } = this.shape;
    const values = new Float64Array(count * A * K);
    const seen = new Uint8Array(count * A * K);
    const last = first + count - 1;
    for (let g = 0; g < this.groups.length; g++) {
      if (this.groups[g].max < first || this.groups[g].min > last) continue;
      const rows = await this.decode(g);
      for (let r = 0; r < rows.round.length; r++) {
        const i = rows.round[r];
        if (i < first || i > last) continue;
        const a = rows.action[r];
        const k = rows.position[r];
        const at = ((i - first) * A + a) * K + k;
        if (seen[at] === 1) throw new DataFormatError(this.file, null, `expected each (round, action, position) once, found (${i}, ${a}, ${k}) again in row ${this.groups[g].start + r + 1}`);
        seen[at] = 1;
        values[at] = rows.prob[r];
      }
    }
    checkActionDistribution(this.file, values, { rounds: count, actions: A, positions: K }, first);
    return values;
  }

  async finish(rows: number): Promise<void> {
    for (let g = 0; g < this.groups.length; g++) {
      if (this.groups[g].max < rows) continue;
      const decoded = await this.decode(g);
      for (let r = 0; r < decoded.round.length; r++) {
        if (decoded.round[r] >= rows) {
          throw new DataFormatError(this.file, null, `expected an integer round in [0, ${rows - 1}] (one per row of the log), found ${decoded.round[r]} in row ${this.groups[g].start + r + 1}`);
        }
      }
    }
  }

  close(): Promise<void> {
    this.cached = null;
    return Promise.resolve();
  }
}

/** The bytes of a .npy file (format 1.0, header padded to 64 bytes) holding `values` as little-endian float64 of `shape`. */
export function npyFloat64Bytes(shape: readonly number[], values: Float64Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new RangeError(`expected ${count} values for shape (${shape.join(', ')}), found ${values.length}`);
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${dims}, }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + values.length * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const data = 10 + header.length;
  for (let j = 0; j < values.length; j++) view.setFloat64(data + j * 8, values[j], true);
  return out;
}

/** Writes an action distribution as a float64 .npy of shape (rounds, actions, positions), atomically. */
export function writeActionDistributionNpy(file: string, shape: ActionDistShape, values: Float64Array): void {
  if (extname(file).toLowerCase() !== '.npy') throw new ConfigError('--export-action-dist', `expected a file name ending in .npy, found '${file}'`);
  writeFileAtomic(file, npyFloat64Bytes([shape.rounds, shape.actions, shape.positions], values));
}
