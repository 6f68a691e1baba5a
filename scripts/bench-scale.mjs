// `npm run bench:scale [-- SESSIONS [PARTITIONS]]`: out-of-core fitting end to end (not part of `npm test`).
// `npm run bench:scale -- train [SESSIONS...] [--steps N]`: a ULTR learner trained from memory and streamed (scale-train.mjs).
// `npm run bench:scale -- ope [ROWS...] [--resamples R] [--no-reward-model]`: `ope --log` streamed over Open Bandit-shaped logs (scale-ope.mjs).
// `npm run bench:scale -- --log DIR [--models=pbm,ubm]`: steps 2 and 3 on a log generated before (same layout), without generating.
//   A model `dbn/K` (after `dbn`, e.g. --models=dbn,dbn/4,dbn/16) fits DBN with its pairs hashed into (pairs / K) buckets
//   (`maxPairParameters`), its train log-likelihood beside the dbn row's (exact while the pairs are within the default budget).
// `npm run bench:scale -- text-ids [SESSIONS] [--repeats N]`: fit on text ids against integer ids, same log (scale-text-ids.mjs).
// `npm run bench:scale -- world --log DIR [--models=pbm,ubm] [--sessions N]`: fit a world out of core and simulate from it (scale-world.mjs).
// 1. Generates a Baidu-ULTR-shaped partitioned Parquet log with `clicklab simulate --world zipf`: power-law
//    query frequencies (exponent 1) over as many queries as sessions, so most queries are in the long tail and
//    distinct (query, document) pairs grow with the log; top 10 of 12 documents per query in 3 rotations; PBM
//    clicks. One process per partition (same world, --seed = partition), two at a time.
// 2. Scans the log once in DuckDB (count and sum of clicks: the floor for anything that reads it), then fits PBM,
//    UBM and DBN with `fitWithEngine` (GROUP BY + 50 EM iterations), each in a fresh child process:
//    seconds end to end (read + aggregate + EM, then the evaluation on the training log apart), sessions/s,
//    and the child's peak RSS (process.resourceUsage().maxRSS: DuckDB's native memory included).
// 3. Runs scripts/bench-parquet-io.mjs (hyparquet against DuckDB on a 1M-session log) unless --no-io.
// The load average (`uptime`) is printed with the table: the 2 cores are shared, so compare within one run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZipfLog } from './zipf-log.mjs';
import { load } from './bench-load.mjs';

const here = new URL('.', import.meta.url).pathname;
const dist = join(here, '..', 'dist');

if (['train', 'ope', 'text-ids', 'world'].includes(process.argv[2])) {
  await import(join(here, `scale-${process.argv[2]}.mjs`));
  process.exit(0);
}

if (process.argv[2] === '--scan') {
  const { LogEngine } = await import(join(dist, 'data', 'engine.js'));
  const engine = await LogEngine.open({ memoryLimit: '1GB' });
  const started = performance.now();
  const [rows, clicks, sessions] = await engine.numbers(
    `SELECT count(*), sum(click), count(*) FILTER (WHERE position = 1) FROM ${(await import(join(dist, 'data', 'engine.js'))).logSourceSql(process.argv[3])}`,
  );
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, rows, clicks, sessions, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
  engine.close();
  process.exit(0);
}

if (process.argv[2] === '--child') {
  const [, , , model, log, budget] = process.argv;
  const { fitWithEngine } = await import(join(dist, 'fitting', 'index.js'));
  const started = performance.now();
  // pairs: false keeps PBM's and UBM's model per class of pairs with equal counts: nothing per pair in memory.
  const hashing = budget === undefined ? {} : { maxPairParameters: Number(budget) };
  const report = await fitWithEngine({ model, log, iterations: 50, memoryLimit: '1GB', perplexity: false, pairs: false, ...hashing });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    JSON.stringify({
      seconds: seconds - report.seconds.test,
      evaluate: report.seconds.test,
      aggregate: report.seconds.aggregate,
      fit: report.seconds.fit,
      sessions: report.trainSessions,
      pairs: report.pairs,
      classes: report.classes,
      rows: report.countRows,
      hashedPairs: report.hashedPairs ?? null,
      trainLogLikelihood: report.trainQuality.logLikelihood,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  );
  process.exit(0);
}

const given = process.argv.indexOf('--log');
const args = process.argv.slice(2).filter((a, i) => !a.startsWith('--') && (given < 0 || i + 2 !== given + 1));
let sessions = Number(args[0] ?? 10_000_000);
let partitions = Number(args[1] ?? Math.max(1, Math.round(sessions / 1_000_000)));
const dir = given >= 0 ? process.argv[given + 1] : mkdtempSync(join(tmpdir(), 'clicklab-bench-scale-'));
try {
  const started = performance.now();
  if (given < 0) await writeZipfLog(dist, dir, sessions, partitions);
  const generate = (performance.now() - started) / 1000;
  const loadAfterGenerate = load();
  const rows = [['step', 'sessions', 'seconds', 'sessions/s', 'count rows', 'pairs', 'classes', 'peak RSS MB']];
  if (given < 0)
    rows.push(['generate (clicklab simulate --world zipf, 2 processes)', String(sessions), generate.toFixed(1), Math.round(sessions / generate).toLocaleString('en-US'), '-', '-', '-', '-']);
  const scan = JSON.parse(execFileSync(process.execPath, [join(here, 'bench-scale.mjs'), '--scan', dir], { encoding: 'utf8' }));
  if (given >= 0) [sessions, partitions] = [scan.sessions, readdirSync(dir).filter((f) => f.endsWith('.parquet')).length];
  rows.push([
    'scan in DuckDB (count, sum of clicks: the floor)',
    String(scan.sessions),
    scan.seconds.toFixed(1),
    Math.round(scan.sessions / scan.seconds).toLocaleString('en-US'),
    '-',
    '-',
    '-',
    scan.maxRssMB.toFixed(0),
  ]);
  const widths = [64, 9, 8, 11, 11, 10, 9, 12];
  const print = (row) => console.log(row.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('  '));
  rows.forEach(print);
  const models = process.argv
    .find((a) => a.startsWith('--models='))
    ?.slice('--models='.length)
    .split(',') ?? ['pbm', 'ubm', 'dbn'];
  // The dbn row's pairs and train log-likelihood, for the hashed rows after it.
  let exactDbn = null;
  for (const spec of models) {
    const [model, fraction] = spec.split('/');
    if (fraction !== undefined && exactDbn === null) {
      print([`fit ${spec}: skipped (give dbn before it, for the pairs to hash)`, String(sessions), '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const budget = fraction === undefined ? [] : [String(Math.floor(exactDbn.pairs / Number(fraction)))];
    let r;
    try {
      r = JSON.parse(execFileSync(process.execPath, [join(here, 'bench-scale.mjs'), '--child', model, dir, ...budget], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'pipe'] }));
    } catch (error) {
      print([`fit ${model}: failed (${String(error.stderr ?? error.message).match(/Error[^\n]*/)?.[0] ?? 'see stderr'})`, String(sessions), '-', '-', '-', '-', '-', '-']);
      continue;
    }
    if (spec === 'dbn') exactDbn = r;
    const cascade = model === 'pbm' || model === 'ubm' ? '' : `; train LL ${r.trainLogLikelihood.toFixed(5)}`;
    const hashed = r.hashedPairs ? `, pairs hashed into ${r.hashedPairs.buckets} buckets (the dbn row's LL ${exactDbn.trainLogLikelihood.toFixed(5)})` : '';
    print([
      `fit ${model} end to end (aggregate ${r.aggregate.toFixed(1)} s + 50 EM ${r.fit.toFixed(1)} s; evaluation ${r.evaluate.toFixed(1)} s apart${cascade}${hashed})`,
      String(r.sessions),
      r.seconds.toFixed(1),
      Math.round(r.sessions / r.seconds).toLocaleString('en-US'),
      String(r.rows),
      String(r.pairs),
      String(r.classes),
      r.maxRssMB.toFixed(0),
    ]);
  }
  console.log(`${partitions} partitions, zipf world of ${sessions} queries; load average after generating ${loadAfterGenerate}, at the end ${load()} (uptime: 1, 5, 15 min)`);
} finally {
  if (given < 0) rmSync(dir, { recursive: true, force: true });
}
if (!process.argv.includes('--no-io')) execFileSync(process.execPath, [join(here, 'bench-parquet-io.mjs')], { stdio: 'inherit' });
