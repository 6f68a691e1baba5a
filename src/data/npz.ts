/**
 * A reader for NumPy `.npz` archives (`numpy.savez` / `savez_compressed`) and the `.npy` arrays in
 * them, without dependencies: the zip container is parsed here and deflated entries go through
 * node:zlib.
 *
 * Zip: the end-of-central-directory record (and its ZIP64 form, which NumPy writes for large
 * archives) gives the central directory; each entry's local header gives where its data starts.
 * Entries are stored (method 0) or deflated (method 8); anything else is an error.
 *
 * .npy (format versions 1–3): the magic `\x93NUMPY`, a version, a header length (2 bytes in v1,
 * 4 bytes after), then a Python dict literal such as
 * `{'descr': '<i8', 'fortran_order': False, 'shape': (3, 20), }`, then the data in C order.
 * The dtypes read are those real click data uses: <i8, <i4, <i2, |i1, <u4, <u2, |u1, <f4, <f8 and
 * |b1 (bool). Big-endian, Fortran-order (of more than one dimension), object and string arrays are
 * errors that say so.
 *
 * Arrays are read whole, or only their first `rows` along axis 0 (`readArray(name, { rows })`):
 * a deflated entry is then inflated as a stream and the inflation stops once those rows are in,
 * so that a prefix of a multi-gigabyte array costs only its own memory.
 *
 * Arrays larger than memory are read in blocks of rows along axis 0 (`rowBlocks(name, blockRows)`,
 * an async iterator): the entry is read from the file handle at its data offset (stored) or
 * inflated as a stream (deflated), so memory is one block plus the inflater's window and chunk,
 * whatever the array's length. Several arrays can be walked in lockstep, one iterator each:
 *
 *     const archive = await NpzArchive.open('data.npz');
 *     for await (const block of archive.rowBlocks('slate', 10_000)) use(block.firstRow, block.data);
 *     await archive.close();
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { DataFormatError } from '../core/errors.js';

export type NpyDtype = '<i8' | '<i4' | '<i2' | '|i1' | '<u4' | '<u2' | '|u1' | '<f4' | '<f8' | '|b1';

export type NpyData = BigInt64Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array | Float32Array | Float64Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  /** The shape of what was read (axis 0 cut to `rows` when asked). */
  readonly shape: readonly number[];
  /** C-order values; bool arrays as Uint8Array (0/1), 64-bit integers as BigInt64Array. */
  readonly data: NpyData;
}

/** Rows `firstRow .. firstRow + shape[0] − 1` of an array (see `NpzArchive.rowBlocks`). */
export interface NpyRowBlock extends NpyArray {
  readonly firstRow: number;
}

/** An array's dtype and full shape, from its header alone. */
export interface NpyInfo {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
}

const DTYPES: Readonly<Record<NpyDtype, { size: number; make: (b: ArrayBuffer, n: number) => NpyData }>> = {
  '<i8': { size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  '<i4': { size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  '<i2': { size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  '|i1': { size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  '<u4': { size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  '<u2': { size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  '|u1': { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  '<f4': { size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  '<f8': { size: 8, make: (b, n) => new Float64Array(b, 0, n) },
  '|b1': { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
};

/** NumPy writes `<` for little-endian and `=` or `|` where byte order does not apply; on little-endian machines they agree. */
function normalizeDescr(descr: string): string {
  if (descr === '|u1' || descr === '<u1' || descr === '=u1') return '|u1';
  if (descr === '|i1' || descr === '<i1' || descr === '=i1') return '|i1';
  if (descr === '|b1' || descr === '<b1' || descr === '=b1' || descr === '?') return '|b1';
  return descr.startsWith('=') ? `<${descr.slice(1)}` : descr;
}

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** An open .npz archive: its entries are listed on open, arrays read on demand. */
export class NpzArchive {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  static async open(path: string): Promise<NpzArchive> {
    const handle = await open(path, 'r');
    try {
      return new NpzArchive(path, handle, await readCentralDirectory(path, handle));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The array names (entry names without `.npy`), in archive order. */
  get names(): string[] {
    return [...this.entries.keys()];
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** Reads array `name` whole, or its first `rows` along axis 0 (fewer when it has fewer). */
  async readArray(name: string, options: { rows?: number } = {}): Promise<NpyArray> {
    const entry = this.entries.get(name);
    const where = `${this.path}[${name}.npy]`;
    if (entry === undefined) {
      throw new DataFormatError(this.path, null, `expected an array '${name}' in the archive, found only ${this.names.map((n) => `'${n}'`).join(', ') || 'no arrays'}`);
    }
    const dataStart = await this.dataOffset(entry);
    // First the header (at most 64 KiB in practice), to know how many bytes the wanted rows take.
    let needed = Math.min(entry.size, 1 << 16);
    let bytes = await this.readPrefix(entry, dataStart, needed);
    const header = parseNpyHeader(bytes, where);
    const { size } = DTYPES[header.dtype];
    const perRow = header.shape.slice(1).reduce((a, b) => a * b, 1);
    const totalRows = header.shape.length === 0 ? 1 : header.shape[0];
    const rows = options.rows === undefined ? totalRows : Math.min(totalRows, Math.max(0, Math.floor(options.rows)));
    const count = header.shape.length === 0 ? 1 : rows * perRow;
    const whole = rows === totalRows;
    needed = header.dataOffset + count * size;
    if (whole && needed !== entry.size) {
      throw new DataFormatError(
        where,
        null,
        `expected ${entry.size - header.dataOffset} data bytes for shape (${header.shape.join(', ')}) of ${header.dtype} to be ${count * size}, found a mismatch (truncated or padded array)`,
      );
    }
    if (needed > bytes.length) bytes = await this.readPrefix(entry, dataStart, needed);
    if (whole) {
      if (crc32(bytes) >>> 0 !== entry.crc) throw new DataFormatError(where, null, 'expected the CRC-32 of the zip entry to match its data, found a mismatch (a corrupt archive)');
    }
    // A fresh, aligned buffer: typed arrays need their element alignment.
    const aligned = new ArrayBuffer(count * size);
    new Uint8Array(aligned).set(bytes.subarray(header.dataOffset, needed));
    const shape = header.shape.length === 0 ? [] : [rows, ...header.shape.slice(1)];
    return { dtype: header.dtype, shape, data: DTYPES[header.dtype].make(aligned, count) };
  }

  /** The dtype and full shape of array `name`, reading only its header. */
  async arrayInfo(name: string): Promise<NpyInfo> {
    const reader = await this.entryReader(name);
    try {
      const { dtype, shape } = await reader.header();
      return { dtype, shape };
    } finally {
      reader.close();
    }
  }

  /**
   * Array `name` in blocks of `blockRows` rows along axis 0 (the last block may be shorter), in
   * order; only the first `rows` rows when given. Memory: one block plus the inflater. A stream
   * that ends early, does not inflate or (read to its end) fails its CRC-32 is a DataFormatError
   * naming the file and the array. Each block owns a fresh buffer, so callers may keep it.
   */
  async *rowBlocks(name: string, blockRows: number, options: { rows?: number } = {}): AsyncGenerator<NpyRowBlock, void, undefined> {
    if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`rowBlocks: expected blockRows to be a positive integer, found ${blockRows}`);
    const reader = await this.entryReader(name);
    try {
      const header = await reader.header();
      const where = reader.where;
      if (header.shape.length === 0) throw new DataFormatError(where, null, 'expected an array with at least one axis to read in row blocks, found a scalar');
      const { size, make } = DTYPES[header.dtype];
      const perRow = header.shape.slice(1).reduce((a, b) => a * b, 1);
      const totalRows = header.shape[0];
      const rows = options.rows === undefined ? totalRows : Math.min(totalRows, Math.max(0, Math.floor(options.rows)));
      for (let first = 0; first < rows; first += blockRows) {
        const n = Math.min(blockRows, rows - first);
        const count = n * perRow;
        // A fresh, aligned buffer: typed arrays need their element alignment.
        const buffer = new ArrayBuffer(count * size);
        await reader.readInto(new Uint8Array(buffer));
        yield { dtype: header.dtype, shape: [n, ...header.shape.slice(1)], data: make(buffer, count), firstRow: first };
      }
      if (rows === totalRows) reader.checkCrc();
    } finally {
      reader.close();
    }
  }

  private async entryReader(name: string): Promise<EntryReader> {
    const entry = this.entries.get(name);
    if (entry === undefined) {
      throw new DataFormatError(this.path, null, `expected an array '${name}' in the archive, found only ${this.names.map((n) => `'${n}'`).join(', ') || 'no arrays'}`);
    }
    return new EntryReader(this.path, this.handle, entry, await this.dataOffset(entry));
  }

  private async dataOffset(entry: ZipEntry): Promise<number> {
    const local = Buffer.alloc(30);
    await this.handle.read(local, 0, 30, entry.localHeaderOffset);
    if (local.readUInt32LE(0) !== LOCAL) {
      throw new DataFormatError(this.path, null, `expected a zip local header for '${entry.name}' at byte ${entry.localHeaderOffset}, found none (a corrupt archive)`);
    }
    return entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  }

  /** The first `n` uncompressed bytes of the entry. */
  private async readPrefix(entry: ZipEntry, dataStart: number, n: number): Promise<Buffer> {
    if (entry.method === 0) {
      const b = Buffer.alloc(n);
      const { bytesRead } = await this.handle.read(b, 0, n, dataStart);
      if (bytesRead < n) throw new DataFormatError(this.path, null, `expected ${n} bytes of '${entry.name}', found the file ends after ${bytesRead} (a truncated archive)`);
      return b;
    }
    const chunks: Buffer[] = [];
    let have = 0;
    const stream = createReadStream(this.path, { start: dataStart, end: dataStart + Math.max(0, entry.compressedSize - 1) });
    const inflate = createInflateRaw();
    stream.pipe(inflate);
    try {
      for await (const chunk of inflate) {
        chunks.push(chunk as Buffer);
        have += (chunk as Buffer).length;
        if (have >= n) break;
      }
    } catch (error) {
      throw new DataFormatError(this.path, null, `expected deflated data in entry '${entry.name}', found data that does not inflate (${(error as Error).message})`);
    } finally {
      stream.destroy();
      inflate.destroy();
    }
    if (have < n) throw new DataFormatError(this.path, null, `expected ${n} bytes in entry '${entry.name}', found ${have} (a truncated archive)`);
    return Buffer.concat(chunks, have).subarray(0, n);
  }
}

/**
 * Reads the uncompressed bytes of one entry in order, exactly as many as asked each time: from the
 * file handle (stored) or through a streaming inflater (deflated), keeping a running CRC-32.
 */
class EntryReader {
  readonly where: string;
  private position = 0;
  private crc = 0;
  private inflated: AsyncIterator<Buffer> | undefined;
  private close_: (() => void) | undefined;
  private leftover: Buffer = Buffer.alloc(0);

  constructor(
    path: string,
    private readonly handle: FileHandle,
    private readonly entry: ZipEntry,
    private readonly dataStart: number,
  ) {
    this.where = `${path}[${entry.name}]`;
    if (entry.method === 8) {
      const stream = createReadStream(path, { start: dataStart, end: dataStart + Math.max(0, entry.compressedSize - 1), highWaterMark: 1 << 20 });
      const inflate = createInflateRaw();
      stream.on('error', (error) => inflate.destroy(error));
      stream.pipe(inflate);
      this.inflated = inflate[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      this.close_ = () => {
        stream.destroy();
        inflate.destroy();
      };
    }
  }

  /** Reads and parses the .npy header, and checks the entry's size against the shape. */
  async header(): Promise<NpyHeader> {
    const first = Buffer.alloc(Math.min(this.entry.size, 12));
    await this.readInto(first);
    let bytes: Uint8Array = first;
    if (first.length >= 12 && first[6] >= 1 && first[6] <= 3) {
      const start = first[6] === 1 ? 10 : 12;
      const headerLength = first[6] === 1 ? first.readUInt16LE(8) : first.readUInt32LE(8);
      const rest = Buffer.alloc(Math.max(0, Math.min(start + headerLength, this.entry.size) - first.length));
      await this.readInto(rest);
      bytes = Buffer.concat([first, rest]);
    }
    const header = parseNpyHeader(bytes, this.where);
    const count = header.shape.reduce((a, b) => a * b, 1);
    const expected = count * DTYPES[header.dtype].size;
    if (header.dataOffset + expected !== this.entry.size) {
      throw new DataFormatError(
        this.where,
        null,
        `expected ${this.entry.size - header.dataOffset} data bytes for shape (${header.shape.join(', ')}) of ${header.dtype} to be ${expected}, found a mismatch (truncated or padded array)`,
      );
    }
    return header;
  }

  /** Fills `target` with the next bytes of the entry. */
  async readInto(target: Uint8Array): Promise<void> {
    let filled = 0;
    if (this.inflated === undefined) {
      while (filled < target.length) {
        const { bytesRead } = await this.handle.read(target, filled, target.length - filled, this.dataStart + this.position);
        if (bytesRead === 0) this.truncated(this.position);
        filled += bytesRead;
        this.position += bytesRead;
      }
    } else {
      while (filled < target.length) {
        if (this.leftover.length === 0) {
          let next: IteratorResult<Buffer>;
          try {
            next = await this.inflated.next();
          } catch (error) {
            throw new DataFormatError(
              this.where,
              null,
              `expected deflated data, found data that does not inflate after ${this.position} bytes (${(error as Error).message}; a truncated or corrupt archive)`,
            );
          }
          if (next.done) this.truncated(this.position);
          this.leftover = (next as IteratorYieldResult<Buffer>).value;
        }
        const take = Math.min(this.leftover.length, target.length - filled);
        target.set(this.leftover.subarray(0, take), filled);
        this.leftover = this.leftover.subarray(take);
        filled += take;
        this.position += take;
      }
    }
    this.crc = crc32(target, this.crc) >>> 0;
  }

  /** After the last byte: the CRC-32 over the entry must match the central directory's. */
  checkCrc(): void {
    if (this.position === this.entry.size && this.crc !== this.entry.crc) {
      throw new DataFormatError(this.where, null, 'expected the CRC-32 of the zip entry to match its data, found a mismatch (a corrupt archive)');
    }
  }

  close(): void {
    this.close_?.();
  }

  private truncated(at: number): never {
    throw new DataFormatError(this.where, null, `expected ${this.entry.size} bytes, found the entry ends after ${at} (a truncated archive)`);
  }
}

async function readCentralDirectory(path: string, handle: FileHandle): Promise<Map<string, ZipEntry>> {
  const fail = (problem: string): never => {
    throw new DataFormatError(path, null, problem);
  };
  const { size: fileSize } = await handle.stat();
  // The end record is 22 bytes plus a comment of up to 65,535 bytes.
  const tailLength = Math.min(fileSize, 22 + 0xffff);
  const tail = Buffer.alloc(tailLength);
  await handle.read(tail, 0, tailLength, fileSize - tailLength);
  let eocd = -1;
  for (let p = tailLength - 22; p >= 0; p--) {
    if (tail.readUInt32LE(p) === EOCD) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail('expected a zip archive (.npz), found no end-of-central-directory record');
  let entries = tail.readUInt16LE(eocd + 10);
  let directorySize = tail.readUInt32LE(eocd + 12);
  let directoryOffset = tail.readUInt32LE(eocd + 16);
  if (entries === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR) fail('expected a ZIP64 end-of-central-directory locator, found none');
    const record = Buffer.alloc(56);
    await handle.read(record, 0, 56, Number(tail.readBigUInt64LE(locator + 8)));
    if (record.readUInt32LE(0) !== ZIP64_EOCD) fail('expected a ZIP64 end-of-central-directory record, found none');
    entries = Number(record.readBigUInt64LE(32));
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
  }
  const directory = Buffer.alloc(directorySize);
  await handle.read(directory, 0, directorySize, directoryOffset);
  const result = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > directory.length || directory.readUInt32LE(p) !== CENTRAL) fail(`expected central directory entry ${i + 1} of ${entries}, found none (a corrupt archive)`);
    const method = directory.readUInt16LE(p + 10);
    const crc = directory.readUInt32LE(p + 16);
    let compressedSize = directory.readUInt32LE(p + 20);
    let size = directory.readUInt32LE(p + 24);
    const nameLength = directory.readUInt16LE(p + 28);
    const extraLength = directory.readUInt16LE(p + 30);
    const commentLength = directory.readUInt16LE(p + 32);
    let localHeaderOffset = directory.readUInt32LE(p + 42);
    const fileName = directory.toString('utf8', p + 46, p + 46 + nameLength);
    // ZIP64 extra field (id 1): the 64-bit values of the fields that read 0xFFFFFFFF, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = directory.readUInt16LE(e);
      const length = directory.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (size === 0xffffffff) (size = Number(directory.readBigUInt64LE(q))), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = Number(directory.readBigUInt64LE(q))), (q += 8);
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(directory.readBigUInt64LE(q));
      }
      e += 4 + length;
    }
    if (method !== 0 && method !== 8) fail(`expected entry '${fileName}' to be stored (0) or deflated (8), found compression method ${method}`);
    if (!fileName.endsWith('.npy')) fail(`expected only .npy entries in an .npz archive, found '${fileName}'`);
    result.set(fileName.slice(0, -4), { name: fileName, method, crc, compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLength;
  }
  return result;
}

interface NpyHeader {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Where the data begins, from the start of the .npy bytes. */
  readonly dataOffset: number;
}

/** Parses the .npy header at the start of `b` (see the top of this file). */
export function parseNpyHeader(b: Uint8Array, where: string): NpyHeader {
  const fail = (problem: string): never => {
    throw new DataFormatError(where, null, problem);
  };
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (b.length < 10 || magic.some((m, i) => b[i] !== m)) fail('expected a .npy array (magic \\x93NUMPY), found other bytes');
  const major = b[6];
  if (major < 1 || major > 3) fail(`expected .npy format version 1, 2 or 3, found ${major}.${b[7]}`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (start + headerLength > b.length) fail(`expected a header of ${headerLength} bytes, found the data ends first`);
  const text = Buffer.from(b.buffer, b.byteOffset + start, headerLength).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`expected a header dict with 'descr', 'fortran_order' and 'shape', found ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  const dtype = normalizeDescr(descr!);
  if (!(dtype in DTYPES)) {
    fail(`expected a dtype among ${Object.keys(DTYPES).join(', ')} (little-endian numbers or bool), found '${descr}'`);
  }
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : fail(`expected integer dimensions in 'shape', found '${s}'`)));
  if (fortran === 'True' && shape.filter((d) => d > 1).length > 1) fail('expected a C-order array, found fortran_order True (save it with np.ascontiguousarray)');
  return { dtype: dtype as NpyDtype, shape, dataOffset: start + headerLength };
}
