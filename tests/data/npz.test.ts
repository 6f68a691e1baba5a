import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { NpzArchive } from '../../src/data/npz.js';
import { npyBytes, npzBytes, type NpyInput } from '../helpers/npz-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-npz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function write(bytes: Buffer): string {
  const file = join(dir, `a-${files++}.npz`);
  writeFileSync(file, bytes);
  return file;
}

const ARRAYS: Record<string, NpyInput> = {
  i8: { descr: '<i8', shape: [2, 3], data: BigInt64Array.of(0n, 1n, -2n, 3n, 4n, 9007199254740991n) },
  i4: { descr: '<i4', shape: [4, 2], data: Int32Array.of(1, -2, 3, 4, 5, 6, 7, 2147483647) },
  f4: { descr: '<f4', shape: [3], data: Float32Array.of(0.5, -1.25, 3e-8) },
  f8: { descr: '<f8', shape: [2, 1], data: Float64Array.of(0.1, 1e300) },
  u1: { descr: '|u1', shape: [5], data: Uint8Array.of(0, 1, 2, 254, 255) },
  bool: { descr: '|b1', shape: [3], data: Uint8Array.of(1, 0, 1) },
};

async function readAll(file: string, name: string, rows?: number) {
  const archive = await NpzArchive.open(file);
  try {
    return await archive.readArray(name, { rows });
  } finally {
    await archive.close();
  }
}

async function failure(file: string, name = 'x'): Promise<DataFormatError> {
  const error = await readAll(file, name).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataFormatError);
  expect((error as DataFormatError).message).toContain(file);
  return error as DataFormatError;
}

describe('NpzArchive', () => {
  for (const compress of [false, true]) {
    it(`reads every supported dtype back exactly (${compress ? 'deflated' : 'stored'} entries)`, async () => {
      const file = write(npzBytes(ARRAYS, compress));
      const archive = await NpzArchive.open(file);
      expect(archive.names).toEqual(Object.keys(ARRAYS));
      for (const [name, input] of Object.entries(ARRAYS)) {
        const array = await archive.readArray(name);
        expect(array.dtype).toBe(input.descr);
        expect(array.shape).toEqual(input.shape);
        expect(Array.from(array.data as ArrayLike<number | bigint>)).toEqual(Array.from(input.data as unknown as ArrayLike<number | bigint>));
      }
      await archive.close();
    });
  }

  it('reads only the first rows along axis 0 when asked', async () => {
    const big = new Int32Array(5000 * 7).map((_, i) => i * 3 - 11);
    const file = write(npzBytes({ big: { descr: '<i4', shape: [5000, 7], data: big } }, true));
    const prefix = await readAll(file, 'big', 3);
    expect(prefix.shape).toEqual([3, 7]);
    expect(Array.from(prefix.data as Int32Array)).toEqual(Array.from(big.subarray(0, 21)));
    expect((await readAll(file, 'big', 10_000)).shape).toEqual([5000, 7]);
  });

  it('rejects a file that is not a zip archive', async () => {
    const file = write(Buffer.from('not a zip at all'));
    const error = await NpzArchive.open(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toBe(`${file}: expected a zip archive (.npz), found no end-of-central-directory record`);
  });

  it('rejects a missing array, naming the ones there are', async () => {
    const file = write(npzBytes({ a: ARRAYS.i4 }, false));
    expect((await failure(file, 'b')).message).toBe(`${file}: expected an array 'b' in the archive, found only 'a'`);
  });

  it('rejects big-endian, object and Fortran-order arrays', async () => {
    const bigEndian = write(npzBytes({ x: { descr: '>i4', shape: [1], data: Int32Array.of(1) } }, false));
    expect((await failure(bigEndian)).message).toContain("found '>i4'");
    const object = write(npzBytes({ x: { descr: '|O', shape: [1], data: Int32Array.of(1) } }, true));
    expect((await failure(object)).message).toContain("found '|O'");
    const fortran = write(npzBytes({ x: { descr: '<i4', shape: [2, 2], data: Int32Array.of(1, 2, 3, 4), fortranOrder: true } }, false));
    expect((await failure(fortran)).message).toContain('expected a C-order array, found fortran_order True');
  });

  it('rejects an array whose data does not fill its shape', async () => {
    const truncated = npyBytes({ descr: '<i4', shape: [3], data: Int32Array.of(1, 2) });
    const file = write(npzBytes({ x: truncated }, true));
    expect((await failure(file)).message).toContain('expected 8 data bytes for shape (3) of <i4 to be 12');
  });

  it('rejects an entry that is not .npy data', async () => {
    const file = write(npzBytes({ x: Buffer.from('hello, this is not numpy') }, false));
    expect((await failure(file)).message).toContain('expected a .npy array (magic \\x93NUMPY)');
  });

  it('rejects a corrupt entry by its CRC-32', async () => {
    const bytes = npzBytes({ x: ARRAYS.i4 }, false);
    const at = bytes.indexOf(Buffer.from('x.npy')) + 5 + 128 + 4; // inside the data of the stored entry
    bytes[at] ^= 0xff;
    const file = write(bytes);
    expect((await failure(file)).message).toContain('expected the CRC-32 of the zip entry to match its data');
  });

  describe('rowBlocks', () => {
    async function blocks(file: string, name: string, blockRows: number, rows?: number) {
      const archive = await NpzArchive.open(file);
      try {
        const out = [];
        for await (const block of archive.rowBlocks(name, blockRows, { rows })) out.push(block);
        return out;
      } finally {
        await archive.close();
      }
    }
    // 1001 rows of 7: an odd length, so that no block size divides it.
    const big = new Int32Array(1001 * 7).map((_, i) => (i * 2654435761) | 0);
    const wide = BigInt64Array.from({ length: 1001 * 3 }, (_, i) => BigInt(i) * 1_000_003n - 5n);
    for (const [compress, zip64] of [
      [false, false],
      [true, false],
      [true, true],
      [false, true],
    ]) {
      for (const blockRows of [1, 13, 1000, 1001, 5000]) {
        it(`streams every row once, in order (${compress ? 'deflated' : 'stored'}${zip64 ? ', ZIP64' : ''}, blocks of ${blockRows})`, async () => {
          const file = write(npzBytes({ other: ARRAYS.f8, big: { descr: '<i4', shape: [1001, 7], data: big }, wide: { descr: '<i8', shape: [1001, 3], data: wide } }, compress, { zip64 }));
          const got = await blocks(file, 'big', blockRows);
          expect(got.length).toBe(Math.ceil(1001 / blockRows));
          expect(got.map((b) => b.firstRow)).toEqual(got.map((_, i) => i * blockRows));
          expect(got.at(-1)!.shape).toEqual([1001 - (got.length - 1) * blockRows, 7]);
          const joined = new Int32Array(1001 * 7);
          let at = 0;
          for (const b of got) {
            expect(b.dtype).toBe('<i4');
            joined.set(b.data as Int32Array, at);
            at += b.data.length;
          }
          expect(at).toBe(big.length);
          expect(joined).toEqual(big);
          const wideBlocks = await blocks(file, 'wide', blockRows);
          const values = wideBlocks.flatMap((b) => Array.from(b.data as BigInt64Array));
          expect(values).toEqual(Array.from(wide));
        });
      }
    }

    it('stops after the first rows when asked, and gives the header alone', async () => {
      const file = write(npzBytes({ big: { descr: '<i4', shape: [1001, 7], data: big } }, true));
      const got = await blocks(file, 'big', 100, 250);
      expect(got.map((b) => b.shape[0])).toEqual([100, 100, 50]);
      expect(Array.from(got[2].data as Int32Array)).toEqual(Array.from(big.subarray(200 * 7, 250 * 7)));
      const archive = await NpzArchive.open(file);
      expect(await archive.arrayInfo('big')).toEqual({ dtype: '<i4', shape: [1001, 7] });
      await archive.close();
    });

    it('rejects a deflated stream that ends early, naming the file and array', async () => {
      const whole = npzBytes({ big: { descr: '<i4', shape: [1001, 7], data: big } }, true);
      const compressedSize = whole.readUInt32LE(18);
      const file = write(npzBytes({ big: { descr: '<i4', shape: [1001, 7], data: big } }, true, { cutDeflatedAt: Math.floor(compressedSize / 2) }));
      const error = await blocks(file, 'big', 64).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toContain(`${file}[big.npy]: `);
      expect((error as Error).message).toMatch(/truncated/);
    });

    it('rejects a stored entry whose data was altered, by its CRC-32 at the end', async () => {
      const bytes = npzBytes({ x: ARRAYS.i4 }, false);
      bytes[bytes.indexOf(Buffer.from('x.npy')) + 5 + 128 + 4] ^= 0xff;
      const file = write(bytes);
      const error = await blocks(file, 'x', 3).catch((e: unknown) => e);
      expect((error as Error).message).toBe(`${file}[x.npy]: expected the CRC-32 of the zip entry to match its data, found a mismatch (a corrupt archive)`);
    });

    it('rejects a Fortran-order array and data that does not fill the shape, before any block', async () => {
      const fortran = write(npzBytes({ x: { descr: '<i4', shape: [2, 2], data: Int32Array.of(1, 2, 3, 4), fortranOrder: true } }, true));
      await expect(blocks(fortran, 'x', 1)).rejects.toThrow(`${fortran}[x.npy]: expected a C-order array, found fortran_order True`);
      const short = write(npzBytes({ x: npyBytes({ descr: '<i4', shape: [3], data: Int32Array.of(1, 2) }) }, false));
      await expect(blocks(short, 'x', 1)).rejects.toThrow('expected 8 data bytes for shape (3) of <i4 to be 12');
      await expect(blocks(short, 'y', 1)).rejects.toThrow(`${short}: expected an array 'y' in the archive, found only 'x'`);
    });
  });
});
