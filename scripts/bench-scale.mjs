// `npm run bench:scale [-- SESSIONS [PARTITIONS]]`: out-of-core fitting end to end (not part of `npm test`).
// `npm run bench:scale -- train [SESSIONS...] [--steps N]`: a ULTR learner trained from memory and streamed (scale-train.mjs).
// `npm run bench:scale -- ope [ROWS...] [--resamples R]`: `ope --log` streamed over Open Bandit-shaped logs (scale-ope.mjs).
// Generates a partitioned Parquet (zstd) click log with DuckDB: Zipf-like query frequencies over a long
// tail of queries (so distinct pairs grow with the log), top 10, three rankings per query, PBM clicks
// (γ_k = 1 / (k + 1), α from a hash of the pair). Then fits PBM and UBM with `fitWithEngine`
// (GROUP BY counts + 50 EM iterations), each in a fresh process, and prints sessions/s and peak RSS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const dist = join(here, '..', 'dist');

if (process.argv[2] === 'train' || process.argv[2] === 'ope') {
  await import(join(here, `scale-${process.argv[2]}.mjs`));
  process.exit(0);
}

if (process.argv[2] === '--child') {
  const [, , , model, log] = process.argv;
  const { fitWithEngine } = await import(join(dist, 'fitting', 'index.js'));
  const started = performance.now();
  const report = await fitWithEngine({ model, log, iterations: 50, memoryLimit: '1GB' });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    JSON.stringify({
      seconds,
      aggregate: report.seconds.aggregate,
      fit: report.seconds.fit,
      sessions: report.trainSessions,
      pairs: report.pairs,
      rows: report.countRows,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  );
  process.exit(0);
}

const sessions = Number(process.argv[2] ?? 10_000_000);
const partitions = Number(process.argv[3] ?? Math.max(1, Math.round(sessions / 1_000_000)));
const queries = Math.max(1000, Math.round(sessions / 2));
const dir = mkdtempSync(join(tmpdir(), 'clicklab-bench-scale-'));
try {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { memory_limit: '1GB', temp_directory: join(dir, 'tmp') });
  const c = await db.connect();
  const started = performance.now();
  const per = Math.ceil(sessions / partitions);
  for (let p = 0; p < partitions; p++) {
    const n = Math.min(per, sessions - p * per);
    await c.run(`SELECT setseed(${(p + 1) / (partitions + 2)})`);
    await c.run(`COPY (
      WITH s AS (SELECT i AS session, CAST(floor(pow(random(), 2.5) * ${queries}) AS INTEGER) AS query, CAST(i % 3 AS INTEGER) AS ranking FROM range(${n}) t(i)),
      r AS (SELECT session, query, k, query * 16 + (k + ranking) % 10 AS item_id FROM s, range(10) u(k))
      SELECT session, query, CAST(item_id AS INTEGER) AS item_id, CAST(k + 1 AS INTEGER) AS position,
        CAST(random() < (1.0 / (k + 1)) * (0.05 + 0.9 * ((hash(item_id) % 1000) / 1000.0)) AS INTEGER) AS click
      FROM r ORDER BY session, position) TO '${join(dir, `part-${String(p).padStart(4, '0')}.parquet`)}' (FORMAT parquet, COMPRESSION zstd)`);
  }
  const generate = (performance.now() - started) / 1000;
  c.closeSync();
  db.closeSync();
  const rows = [['step', 'sessions', 'seconds', 'sessions/s', 'count rows', 'pairs', 'peak RSS MB']];
  rows.push(['generate (DuckDB, zstd Parquet)', String(sessions), generate.toFixed(1), Math.round(sessions / generate).toLocaleString('en-US'), '-', '-', '-']);
  for (const model of ['pbm', 'ubm']) {
    const r = JSON.parse(execFileSync(process.execPath, [join(here, 'bench-scale.mjs'), '--child', model, dir], { encoding: 'utf8', maxBuffer: 1 << 20 }));
    rows.push([
      `fit ${model} end to end (aggregate ${r.aggregate.toFixed(1)} s + 50 EM ${r.fit.toFixed(1)} s)`,
      String(r.sessions),
      r.seconds.toFixed(1),
      Math.round(r.sessions / r.seconds).toLocaleString('en-US'),
      String(r.rows),
      String(r.pairs),
      r.maxRssMB.toFixed(0),
    ]);
  }
  const widths = rows[0].map((_, j) => Math.max(...rows.map((row) => row[j].length)));
  for (const row of rows) console.log(row.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('  '));
  console.log(
    `${partitions} partitions, ${queries} queries; load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
