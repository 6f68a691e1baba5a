// `npm run bench:scale -- text-ids [SESSIONS] [--repeats N]`: the cost of text ids in the engine (data/engine-ids.ts).
// 1. Generates a zipf log (as bench-scale.mjs does) in 2 Parquet partitions, and the same log with text ids:
//    the query an md5 (32 hex characters, as Yandex and Baidu-ULTR ship them), the document a URL with an md5.
// 2. Fits PBM and DBN on each (fitWithEngine in a fresh child, bench-scale.mjs --child), integer and text
//    alternating, `--repeats` times (default 2): the text fit pays the DESCRIBE, the dictionaries (a DISTINCT and
//    a sort per column) and the join of every slot to them. Prints the aggregation and end-to-end seconds
//    (the median of the repeats), the peak RSS and the load average (`uptime`: the 2 cores are shared).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZipfLog } from './zipf-log.mjs';
import { load } from './bench-load.mjs';

const here = new URL('.', import.meta.url).pathname;
const dist = join(here, '..', 'dist');
const argv = process.argv.slice(3);
const at = argv.indexOf('--repeats');
const repeats = at >= 0 ? Number(argv[at + 1]) : 2;
const sessions = Number(argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--repeats')[0] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'clicklab-bench-text-ids-'));
try {
  mkdirSync(join(dir, 'integer'));
  mkdirSync(join(dir, 'text'));
  await writeZipfLog(dist, join(dir, 'integer'), sessions, 2, (i) => `part-${i}.parquet`);
  const { LogEngine } = await import(join(dist, 'data', 'engine.js'));
  const engine = await LogEngine.open();
  for (const i of [0, 1]) {
    await engine.run(
      `COPY (SELECT * REPLACE (md5(CAST(query AS VARCHAR)) AS query, 'https://example.com/' || md5(CAST(item_id AS VARCHAR)) AS item_id) FROM '${join(dir, 'integer', `part-${i}.parquet`)}')
        TO '${join(dir, 'text', `part-${i}.parquet`)}' (FORMAT parquet, COMPRESSION zstd)`,
    );
  }
  engine.close();
  console.log(`${sessions} sessions in 2 partitions; load average after generating ${load()}`);
  const child = (model, log) => JSON.parse(execFileSync(process.execPath, [join(here, 'bench-scale.mjs'), '--child', model, log], { encoding: 'utf8', maxBuffer: 1 << 20 }));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const widths = [24, 12, 12, 10, 12];
  const print = (row) => console.log(row.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('  '));
  print(['fit', 'aggregate s', 'end to end s', 'pairs', 'peak RSS MB']);
  for (const model of ['pbm', 'dbn']) {
    const runs = { integer: [], text: [] };
    for (let r = 0; r < repeats; r++) for (const ids of ['integer', 'text']) runs[ids].push(child(model, join(dir, ids)));
    for (const ids of ['integer', 'text']) {
      const rs = runs[ids];
      print([`${model}, ${ids} ids`, median(rs.map((r) => r.aggregate)).toFixed(2), median(rs.map((r) => r.seconds)).toFixed(2), String(rs[0].pairs), median(rs.map((r) => r.maxRssMB)).toFixed(0)]);
    }
  }
  console.log(`medians of ${repeats} runs each (integer and text alternating); load average at the end ${load()} (uptime: 1, 5, 15 min)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
