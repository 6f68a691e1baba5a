// `npm run bench:scale -- ope [ROWS...] [--resamples R] [--no-reward-model]` (default 1000000 10000000
// rows, R = 100): generates Open Bandit-shaped logs (the men campaign's columns: 34 items, 3 positions,
// four hashed user features, 34 affinities; uniform logging, pscore 1/34; clicks at 0.5% + item effect)
// as gzipped CSV partitions of 500,000 rows with DuckDB, then runs `clicklab ope --log DIR` (streamed,
// BTS from the shipped priors: IPW, clipped IPW, SNIPW and, unless --no-reward-model, DM and the DR
// family with the reward model fitted over the stream, a pass per Newton step; Poisson-bootstrap
// intervals) in a fresh process per size and prints its wall time, passes (over the log, or over the
// reward model's spilled feature rows), log rows per second end to end, peak RSS (GNU time), the IPW
// and DR estimates, and the load average at each row.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from './bench-load.mjs';

const here = new URL('.', import.meta.url).pathname;
const cli = join(here, '..', 'dist', 'cli', 'main.js');
const args = process.argv.slice(3);
const at = args.indexOf('--resamples');
const resamples = at < 0 ? 100 : Number(args.splice(at, 2)[1]);
const noModel = args.indexOf('--no-reward-model');
const rewardModel = noModel < 0;
if (!rewardModel) args.splice(noModel, 1);
const sizes = args.length > 0 ? args.map(Number) : [1_000_000, 10_000_000];
const perFile = 500_000;
const A = 34;
const dir = mkdtempSync(join(tmpdir(), 'clicklab-scale-ope-'));
try {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { memory_limit: '1GB', temp_directory: join(dir, 'tmp') });
  const c = await db.connect();
  const rows = [['run', 'rows', 'files', 'resamples', 'passes', 'seconds', 'rows/s', 'peak RSS MB', 'IPW estimate [95% CI]', 'DR estimate [95% CI]', 'load average']];
  const logs = [];
  for (const n of sizes) {
    const started = performance.now();
    const folder = join(dir, `obd-${n}`);
    mkdirSync(folder);
    const files = Math.ceil(n / perFile);
    const affinity = Array.from({ length: A }, (_, a) => `round(random() * 3, 3) AS "user-item_affinity_${a}"`).join(', ');
    for (let f = 0; f < files; f++) {
      const m = Math.min(perFile, n - f * perFile);
      await c.run(`SELECT setseed(${(f + 1) / (files + 2)})`);
      await c.run(`COPY (
        SELECT '2019-11-24 00:03:13.442536+00:00' AS timestamp, item_id, CAST(i % 3 + 1 AS INTEGER) AS position,
          CAST(random() < 0.005 + 0.0002 * (item_id % 10) AS INTEGER) AS click, ${1 / A} AS propensity_score,
          md5(CAST(floor(random() * 10) AS VARCHAR)) AS user_feature_0, md5(CAST(floor(random() * 20) AS VARCHAR)) AS user_feature_1,
          md5(CAST(floor(random() * 5) AS VARCHAR)) AS user_feature_2, md5(CAST(floor(random() * 8) AS VARCHAR)) AS user_feature_3, ${affinity}
        FROM (SELECT i, CAST(floor(random() * ${A}) AS INTEGER) AS item_id FROM range(${m}) t(i))) TO '${join(folder, `part-${String(f).padStart(4, '0')}.csv.gz`)}' (HEADER, COMPRESSION gzip)`);
    }
    logs.push({ n, folder, files });
    rows.push(['generate (DuckDB, csv.gz)', String(n), String(files), '-', '-', ((performance.now() - started) / 1000).toFixed(1), '-', '-', '-', '-', load()]);
  }
  c.closeSync();
  db.closeSync();
  for (const log of logs) {
    const out = join(dir, `out-${log.n}`);
    const started = performance.now();
    const flags = ['ope', '--log', log.folder, '--policy', 'bts', '--resamples', String(resamples), '--out', out, '--quiet', ...(rewardModel ? [] : ['--no-reward-model'])];
    const run = spawnSync('/usr/bin/time', ['-v', process.execPath, cli, ...flags], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`ope failed: ${run.stderr}`);
    const peak = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1] ?? Number.NaN) / 1024;
    const result = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).result;
    const interval = (r) => (r === undefined ? '-' : `${r.estimate.toFixed(5)} [${r.lower.toFixed(5)}, ${r.upper.toFixed(5)}]`);
    const passes = result.streamed.passes;
    rows.push([
      `ope --log DIR (streamed${rewardModel ? ', DM/DR' : ''})`,
      String(result.rows),
      String(log.files),
      String(resamples),
      String(passes),
      seconds.toFixed(1),
      Math.round(result.rows / seconds).toLocaleString('en-US'),
      peak.toFixed(0),
      interval(result.table[0]),
      interval(result.table.find((r) => r.estimator === 'dr')),
      load(),
    ]);
  }
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows) console.log(r.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('  '));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
