/**
 * Writes .npy and .npz bytes as NumPy does (format 1.0 header padded to 64 bytes, a zip of
 * `NAME.npy` entries, stored or deflated), so that tests generate files in the real format.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface NpyInput {
  /** NumPy's descr, written as given (e.g. '<i4', '|u1', '>i4' to test rejection). */
  readonly descr: string;
  readonly shape: readonly number[];
  /** The raw little-endian values. */
  readonly data: ArrayBufferView;
  readonly fortranOrder?: boolean;
}

export function npyBytes(array: NpyInput): Buffer {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${array.descr}', 'fortran_order': ${array.fortranOrder ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

/**
 * A zip archive of `name.npy` entries; `compress` deflates them (savez_compressed) or stores them (savez).
 * `cutDeflatedAt` keeps only that many bytes of each deflated body (the headers say so, while the
 * uncompressed size and CRC stay those of the whole array): a stream that ends early, as in a
 * file cut off mid-entry, with a readable directory. `zip64` writes every size and offset in ZIP64
 * extra fields, with a ZIP64 end record, as Python's zipfile does for entries over 4 GiB (the real
 * FINN `slate` array is 9 GB uncompressed).
 */
export function npzBytes(arrays: Record<string, NpyInput | Buffer>, compress: boolean, options: { cutDeflatedAt?: number; zip64?: boolean } = {}): Buffer {
  const { cutDeflatedAt, zip64 = false } = options;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(arrays)) {
    const raw = Buffer.isBuffer(array) ? array : npyBytes(array);
    const whole = compress ? deflateRawSync(raw) : raw;
    const body = compress && cutDeflatedAt !== undefined ? whole.subarray(0, cutDeflatedAt) : whole;
    const fileName = Buffer.from(`${name}.npy`);
    const crc = crc32(raw) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(compress ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? 0xffffffff : body.length, 18);
    local.writeUInt32LE(zip64 ? 0xffffffff : raw.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const localExtra = Buffer.alloc(zip64 ? 20 : 0);
    if (zip64) {
      localExtra.writeUInt16LE(1, 0);
      localExtra.writeUInt16LE(16, 2);
      localExtra.writeBigUInt64LE(BigInt(raw.length), 4);
      localExtra.writeBigUInt64LE(BigInt(body.length), 12);
      local.writeUInt16LE(20, 28);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(zip64 ? 45 : 20, 4);
    central.writeUInt16LE(zip64 ? 45 : 20, 6);
    central.writeUInt16LE(compress ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? 0xffffffff : body.length, 20);
    central.writeUInt32LE(zip64 ? 0xffffffff : raw.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    const centralExtra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      // The ZIP64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in this order.
      centralExtra.writeUInt16LE(1, 0);
      centralExtra.writeUInt16LE(24, 2);
      centralExtra.writeBigUInt64LE(BigInt(raw.length), 4);
      centralExtra.writeBigUInt64LE(BigInt(body.length), 12);
      centralExtra.writeBigUInt64LE(BigInt(offset), 20);
      central.writeUInt16LE(28, 30);
    }
    locals.push(local, fileName, localExtra, body);
    centrals.push(central, fileName, centralExtra);
    offset += 30 + fileName.length + localExtra.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const count = Object.keys(arrays).length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : directory.length, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  if (!zip64) return Buffer.concat([...locals, directory, end]);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(directory.length), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + directory.length), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([...locals, directory, record, locator, end]);
}
