// `npm run bench:scale -- world --log DIR [--models=pbm,ubm] [--sessions N]`: a world fitted out of core and driven by
// `simulate`, on a log generated before (bench-scale.mjs's zipf layout). Each step in a fresh child process:
// 1. fit with `fitWithEngine({ worldFolder })`: PBM and UBM write the Parquet world in DuckDB (pairs with their
//    classes' α, rankings grouped by a hash of their slots), nothing per pair or ranking in JavaScript;
// 2. simulate N sessions (default the log's) from that folder as `clicklab simulate --world` does
//    (fitting/world-simulation.ts: rankings streamed from DuckDB, buckets spilled, Parquet out).
// Prints seconds, sessions/s, the world's pairs and rankings, peak RSS (the child's maxRSS: DuckDB included), load.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from './bench-load.mjs';

const here = new URL('.', import.meta.url).pathname;
const dist = join(here, '..', 'dist');
const rss = () => process.resourceUsage().maxRSS / 1024;

if (process.argv[2] === '--fit') {
  const [, , , model, log, folder] = process.argv;
  const { fitWithEngine } = await import(join(dist, 'fitting', 'index.js'));
  const started = performance.now();
  const report = await fitWithEngine({ model, log, iterations: 50, memoryLimit: '1GB', perplexity: false, pairs: false, worldFolder: folder });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ seconds, sessions: report.trainSessions, ...report.savedWorld, maxRssMB: rss() }));
  process.exit(0);
}
if (process.argv[2] === '--simulate') {
  const [, , , folder, out, sessions] = process.argv;
  const { openWorld, simulateOnRankings } = await import(join(dist, 'fitting', 'index.js'));
  const { openClickLogSink } = await import(join(dist, 'data', 'log-sink.js'));
  const { randomStream } = await import(join(dist, 'core', 'random.js'));
  const started = performance.now();
  const world = await openWorld(folder);
  const sink = await openClickLogSink(out, { sessions: Number(sessions) });
  await simulateOnRankings(world, Number(sessions), randomStream(1).derive('sessions'), (chunk) => sink.write({ log: chunk.log, propensity: chunk.propensity }), {
    truth: false,
    chunkSessions: 1 << 14,
  });
  await sink.close();
  world.close();
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, maxRssMB: rss() }));
  process.exit(0);
}

const argv = process.argv.slice(3);
const log = argv[argv.indexOf('--log') + 1];
if (!argv.includes('--log') || log === undefined) throw new Error('give --log DIR (a log written by bench-scale.mjs)');
const models = argv
  .find((a) => a.startsWith('--models='))
  ?.slice('--models='.length)
  .split(',') ?? ['pbm'];
const at = argv.indexOf('--sessions');
const work = mkdtempSync(join(tmpdir(), 'clicklab-bench-world-'));
const widths = [58, 11, 9, 11, 12, 11, 12];
const print = (row) => console.log(row.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('  '));
const child = (args) => JSON.parse(execFileSync(process.execPath, [join(here, 'scale-world.mjs'), ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }));
try {
  print(['step', 'sessions', 'seconds', 'sessions/s', 'pairs', 'rankings', 'peak RSS MB']);
  for (const model of models) {
    const folder = join(work, `${model}-world`);
    const fit = child(['--fit', model, log, folder]);
    const n = at >= 0 ? Number(argv[at + 1]) : fit.sessions;
    print([
      `fit ${model} and write its world (DuckDB)`,
      String(fit.sessions),
      fit.seconds.toFixed(1),
      Math.round(fit.sessions / fit.seconds).toLocaleString('en-US'),
      String(fit.pairs),
      String(fit.rankings),
      fit.maxRssMB.toFixed(0),
    ]);
    const sim = child(['--simulate', folder, join(work, `${model}-simulated.parquet`), String(n)]);
    print([`simulate from the ${model} world (streamed, to Parquet)`, String(n), sim.seconds.toFixed(1), Math.round(n / sim.seconds).toLocaleString('en-US'), '-', '-', sim.maxRssMB.toFixed(0)]);
    rmSync(folder, { recursive: true, force: true });
  }
  console.log(`log ${log}; load average at the end ${load()} (uptime: 1, 5, 15 min)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
