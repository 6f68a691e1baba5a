/**
 * Reading FINN.no's `data.npz` at scale: a FINN-layout file of `users` users (T = 20, S = 25,
 * int64 arrays deflated as np.savez_compressed writes them, about 16 interaction steps a user as in
 * the real file) is generated with bounded memory, then read by
 *   - the prefix reader (baseline): `NpzArchive.readArray(name, { rows })` for the six arrays, each
 *     inflated whole into memory, which is what readFinnSlates did before it streamed (its
 *     conversion to numbers and the slate log are not included, so the baseline is flattered);
 *   - `finnSequenceBlocks` in blocks of 10,000 users (inflated, converted to Int32 and validated).
 * Each read runs in a child process of its own so that its peak RSS (`resourceUsage().maxRSS`) is
 * its own; both readers are measured on the whole file and on its first quarter, to show that the
 * streaming reader's memory does not grow with the users read.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createDeflateRaw, crc32 } from 'node:zlib';
import { randomStream } from '../core/random.js';
import { finnSequenceBlocks } from '../data/finn-sequences.js';
import { NpzArchive } from '../data/npz.js';
import type { BenchmarkRow } from './rows.js';

const SELF = fileURLToPath(import.meta.url);
const CHILD = 'finn-reading-child';
const T = 20;
const S = 25;
const BLOCK = 10_000;

/** One block of users' arrays as int64 little-endian words (low, high = 0: every value is ≥ 0 and < 2^31). */
function generatedBlock(block: number, users: number): Record<string, Int32Array> {
  const rng = randomStream(`finn-bench-${block}`);
  const words = (n: number) => new Int32Array(2 * n);
  const a = { userId: words(users), click: words(users * T), click_idx: words(users * T), slate_lengths: words(users * T), slate: words(users * T * S), interaction_type: words(users * T) };
  for (let u = 0; u < users; u++) {
    a.userId[2 * u] = block * BLOCK + u;
    const active = rng.uniform() < 0.6 ? T : 1 + rng.int(T - 1);
    for (let t = 0; t < active; t++) {
      const k = u * T + t;
      const length = 10 + rng.int(S - 9);
      a.slate_lengths[2 * k] = length;
      a.interaction_type[2 * k] = 1 + rng.int(2);
      a.slate[2 * k * S] = 1;
      for (let s = 1; s < length; s++) a.slate[2 * (k * S + s)] = 3 + Math.floor(1_300_000 * rng.uniform() ** 3);
      const idx = rng.uniform() < 0.3 ? 0 : 1 + rng.int(length - 1);
      a.click_idx[2 * k] = idx;
      a.click[2 * k] = idx === 0 ? 1 : a.slate[2 * (k * S + idx)];
    }
  }
  return a;
}

function npyHeader(shape: number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1')]);
}

/** Writes a FINN-layout `data.npz` of `users` users, one deflated entry at a time, a block of users at a time. */
async function writeFinnFile(file: string, users: number): Promise<void> {
  const shapes: Record<string, number[]> = { userId: [users], click: [users, T], click_idx: [users, T], slate_lengths: [users, T], slate: [users, T, S], interaction_type: [users, T] };
  const handle = await open(file, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  try {
    for (const [name, shape] of Object.entries(shapes)) {
      const fileName = Buffer.from(`${name}.npy`);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(8, 8);
      local.writeUInt16LE(fileName.length, 26);
      await handle.write(Buffer.concat([local, fileName]), 0, 30 + fileName.length, offset);
      let crc = 0;
      let size = 0;
      let at = offset + 30 + fileName.length;
      async function* npy(): AsyncGenerator<Buffer> {
        for (let first = 0; first < users; first += BLOCK) {
          const chunk = first === 0 ? [npyHeader(shape)] : [];
          const words = generatedBlock(first / BLOCK, Math.min(BLOCK, users - first))[name];
          chunk.push(Buffer.from(words.buffer, words.byteOffset, words.byteLength));
          for (const c of chunk) {
            crc = crc32(c, crc) >>> 0;
            size += c.length;
            yield c;
          }
        }
      }
      await pipeline(Readable.from(npy()), createDeflateRaw(), async (deflated: AsyncIterable<Buffer>) => {
        for await (const chunk of deflated) {
          await handle.write(chunk, 0, chunk.length, at);
          at += chunk.length;
        }
      });
      const compressed = at - (offset + 30 + fileName.length);
      if (size > 0xffffffff || at > 0xffffffff) throw new RangeError(`writeFinnFile: ${users} users need ZIP64, which this generator does not write`);
      const sizes = Buffer.alloc(12);
      sizes.writeUInt32LE(crc, 0);
      sizes.writeUInt32LE(compressed, 4);
      sizes.writeUInt32LE(size, 8);
      await handle.write(sizes, 0, 12, offset + 14);
      const entry = Buffer.alloc(46);
      entry.writeUInt32LE(0x02014b50, 0);
      entry.writeUInt16LE(20, 4);
      entry.writeUInt16LE(20, 6);
      entry.writeUInt16LE(8, 10);
      sizes.copy(entry, 16);
      entry.writeUInt16LE(fileName.length, 28);
      entry.writeUInt32LE(offset, 42);
      central.push(entry, fileName);
      offset = at;
    }
    const directory = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(6, 8);
    end.writeUInt16LE(6, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(offset, 16);
    await handle.write(Buffer.concat([directory, end]), 0, directory.length + 22, offset);
  } finally {
    await handle.close();
  }
}

interface ChildResult {
  readonly seconds: number;
  readonly interactions: number;
  readonly maxRssMB: number;
}

/** Runs in the child: one read, then its time, the interactions seen and the process's peak RSS. */
async function childRead(mode: string, file: string, users: number): Promise<ChildResult> {
  const started = performance.now();
  let interactions = 0;
  if (mode === 'blocks') {
    for await (const block of finnSequenceBlocks(file, { blockUsers: BLOCK, users })) for (const c of block.click) if (c !== 0) interactions++;
  } else {
    const archive = await NpzArchive.open(file);
    const arrays = [];
    for (const name of ['userId', 'click', 'click_idx', 'slate_lengths', 'slate', 'interaction_type']) arrays.push(await archive.readArray(name, { rows: users }));
    await archive.close();
    for (const c of arrays[1].data as BigInt64Array) if (c !== 0n) interactions++;
  }
  return { seconds: (performance.now() - started) / 1000, interactions, maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

if (process.argv[1] === SELF && process.argv[2] === CHILD) {
  const [, , , mode, file, users] = process.argv;
  process.stdout.write(JSON.stringify(await childRead(mode, file, Number(users))));
}

/** The FINN reading rows (see the top of this file) on a generated file of `users` users. */
export async function finnReadingRows(users: number): Promise<BenchmarkRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-finn-bench-'));
  try {
    const file = path.join(dir, 'data.npz');
    await writeFinnFile(file, users);
    const quarter = Math.round(users / 4);
    const read = (mode: 'prefix' | 'blocks', n: number): ChildResult =>
      JSON.parse(execFileSync(process.execPath, [...process.execArgv, SELF, CHILD, mode, file, String(n)], { encoding: 'utf8', maxBuffer: 1 << 20 })) as ChildResult;
    const prefix = read('prefix', users);
    const blocks = read('blocks', users);
    const prefixQuarter = read('prefix', quarter);
    const blocksQuarter = read('blocks', quarter);
    const group = `FINN.no data.npz reading (${users} users, int64, deflated)`;
    const row = (g: string, name: string, unit: string, value: number, baseline: number): BenchmarkRow => ({ group: g, name, unit, value, ratio: value / baseline });
    const usersPerSecond = (r: ChildResult, n: number) => n / r.seconds;
    const rss = `FINN.no data.npz reading, peak RSS`;
    return [
      row(group, 'prefix reader, readArray × 6 (baseline)', 'users/s', usersPerSecond(prefix, users), usersPerSecond(prefix, users)),
      row(group, `finnSequenceBlocks, ${BLOCK}-user blocks`, 'users/s', usersPerSecond(blocks, users), usersPerSecond(prefix, users)),
      row(`${group}, interactions`, 'prefix reader, readArray × 6 (baseline)', 'interactions/s', prefix.interactions / prefix.seconds, prefix.interactions / prefix.seconds),
      row(`${group}, interactions`, `finnSequenceBlocks, ${BLOCK}-user blocks`, 'interactions/s', blocks.interactions / blocks.seconds, prefix.interactions / prefix.seconds),
      row(rss, `prefix reader, ${quarter} users (baseline)`, 'MB', prefixQuarter.maxRssMB, prefixQuarter.maxRssMB),
      row(rss, `prefix reader, ${users} users`, 'MB', prefix.maxRssMB, prefixQuarter.maxRssMB),
      row(rss, `finnSequenceBlocks, ${quarter} users`, 'MB', blocksQuarter.maxRssMB, prefixQuarter.maxRssMB),
      row(rss, `finnSequenceBlocks, ${users} users`, 'MB', blocks.maxRssMB, prefixQuarter.maxRssMB),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
