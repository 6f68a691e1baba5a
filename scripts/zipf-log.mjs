// A Baidu-ULTR-shaped partitioned log written by `clicklab simulate --world zipf` (shared by bench-scale.mjs and
// scale-text-ids.mjs): power-law query frequencies over as many queries as sessions, one process per partition
// (same world, --seed = partition), two at a time. `name(i)` is partition i's file name in `dir`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export async function writeZipfLog(dist, dir, sessions, partitions, name = (i) => `part-${String(i).padStart(4, '0')}.parquet`) {
  const per = Math.ceil(sessions / partitions);
  const zipf = JSON.stringify({ queries: sessions, exponent: 1 });
  const run = promisify(execFile);
  for (let p = 0; p < partitions; p += 2) {
    const batch = [p, p + 1].filter((i) => i < partitions);
    await Promise.all(
      batch.map((i) =>
        run(process.execPath, [
          join(dist, 'cli', 'main.js'),
          'simulate',
          '--world',
          'zipf',
          '--zipf',
          zipf,
          '--sessions',
          String(Math.min(per, sessions - i * per)),
          '--seed',
          String(i),
          '--out',
          join(dir, name(i)),
          '--quiet',
        ]),
      ),
    );
  }
}
