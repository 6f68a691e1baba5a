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
