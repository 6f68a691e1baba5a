// `npm run bench:scale -- train [SESSIONS...] [--steps N] [--buffer B] [--memory-limit 256MB]` (default 1000000 10000000, 300 steps):
// generates partitioned zstd-Parquet click logs over MQ2008 fold 1's training split with DuckDB (sessions
// of a uniformly drawn query, its first ten documents in file order, PBM-like clicks), then trains the
// naive learner (linear model, wasm backend, batch 256) for a fixed number of steps in fresh processes:
// from memory (one Parquet file of the smallest log, read whole) and streamed (every size, through the
// engine and the shuffle buffer). Prints the setup time (reading / the summary pass), steps/s of the
// training loop, and the peak RSS of each process, with the load average at each row.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from './bench-load.mjs';

const here = new URL('.', import.meta.url).pathname;
const dist = join(here, '..', 'dist');
const args = process.argv.slice(process.argv[2] === 'train' ? 3 : 2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  args.splice(at, 2);
  return value;
};

if (args[0] === '--child') {
  const [, mode, log, steps, buffer, memoryLimit] = args;
  const { initBackend } = await import(join(dist, 'learning', 'backend.js'));
  const { trainModel } = await import(join(dist, 'studies', 'ultr', 'train-model.js'));
  await initBackend('wasm');
  const started = performance.now();
  let trainStart = 0;
  let trainEnd = 0;
  let at25 = 0;
  const progress = {
    start(label) {
      if (label === 'naive') trainStart = performance.now();
    },
    update(done) {
      if (done === 25 && at25 === 0) at25 = performance.now();
    },
    finish() {
      trainEnd = performance.now();
    },
    log() {},
  };
  const out = mkdtempSync(join(tmpdir(), 'clicklab-scale-model-'));
  const result = await trainModel({
    learner: { type: 'naive' },
    clicks: { log, data: { dataset: 'mq2008', fold: 1 }, ...(mode === 'stream' ? { stream: { always: true, bufferSessions: Number(buffer), memoryLimit } } : {}) },
    model: { type: 'linear' },
    training: { steps: Number(steps), batchSize: 256, learningRate: 0.05, clipNorm: 5, evalEvery: Number(steps) },
    seed: 1,
    out,
    progress,
  });
  rmSync(out, { recursive: true, force: true });
  process.stdout.write(
    JSON.stringify({
      setup: (trainStart - started) / 1000,
      train: (trainEnd - trainStart) / 1000,
      first25: (at25 - trainStart) / 1000,
      after25: (trainEnd - at25) / 1000,
      validation: result.validation,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      load: load(),
    }),
  );
  process.exit(0);
}

const steps = flag('--steps', 300);
const buffer = flag('--buffer', 100_000);
const memoryAt = args.indexOf('--memory-limit');
const memoryLimit = memoryAt < 0 ? '256MB' : args.splice(memoryAt, 2)[1];
const sizes = args.length > 0 ? args.map(Number) : [1_000_000, 10_000_000];
const perPartition = 250_000;
const dir = mkdtempSync(join(tmpdir(), 'clicklab-scale-train-'));
try {
  const { loadRankingDataset } = await import(join(dist, 'data', 'datasets.js'));
  const { train } = loadRankingDataset('mq2008', { fold: 1 });
  const Q = train.queryOffsets.length - 1;
  const offsets = ['query,start,len'];
  for (let q = 0; q < Q; q++) offsets.push(`${q},${train.queryOffsets[q]},${train.queryOffsets[q + 1] - train.queryOffsets[q]}`);
  writeFileSync(join(dir, 'queries.csv'), `${offsets.join('\n')}\n`);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { memory_limit: '1GB', temp_directory: join(dir, 'tmp') });
  const c = await db.connect();
  const rows = [['run', 'sessions', 'partitions', 'setup s', 'steps', 'train s', 'first 25 steps s', 'steps/s after', 'peak RSS MB', 'valid nDCG@10', 'load average']];
  const logs = [];
  for (const sessions of sizes) {
    const started = performance.now();
    const folder = join(dir, `log-${sessions}`);
    mkdirSync(folder);
    const partitions = Math.ceil(sessions / perPartition);
    for (let p = 0; p < partitions; p++) {
      const n = Math.min(perPartition, sessions - p * perPartition);
      await c.run(`SELECT setseed(${(p + 1) / (partitions + 2)})`);
      await c.run(`COPY (
        WITH s AS (SELECT ${p * perPartition} + i AS session, CAST(floor(random() * ${Q}) AS INTEGER) AS q FROM range(${n}) t(i))
        SELECT session, q AS query, CAST(start + k AS INTEGER) AS item_id, CAST(k + 1 AS INTEGER) AS position,
          CAST(random() < (1.0 / (k + 1)) * (0.1 + 0.8 * ((hash(start + k) % 100) / 100.0)) AS INTEGER) AS click
        FROM s JOIN read_csv('${join(dir, 'queries.csv')}') qo ON s.q = qo.query, range(10) u(k) WHERE k < least(len, 10)
        ORDER BY session, position) TO '${join(folder, `part-${String(p).padStart(4, '0')}.parquet`)}' (FORMAT parquet, COMPRESSION zstd)`);
    }
    logs.push({ sessions, folder, partitions });
    rows.push([`generate (DuckDB)`, String(sessions), String(partitions), ((performance.now() - started) / 1000).toFixed(1), '-', '-', '-', '-', '-', '-', load()]);
  }
  const smallest = logs[0];
  const single = join(dir, `whole-${smallest.sessions}.parquet`);
  await c.run(`COPY (SELECT * FROM read_parquet('${join(smallest.folder, '*.parquet')}') ORDER BY session, position) TO '${single}' (FORMAT parquet, COMPRESSION snappy)`);
  c.closeSync();
  db.closeSync();
  const child = (mode, log) =>
    JSON.parse(execFileSync(process.execPath, [join(here, 'scale-train.mjs'), '--child', mode, log, String(steps), String(buffer), memoryLimit], { encoding: 'utf8', maxBuffer: 1 << 20 }));
  const row = (name, log, r) => [
    name,
    String(log.sessions),
    String(log.partitions),
    r.setup.toFixed(1),
    String(steps),
    r.train.toFixed(1),
    r.first25.toFixed(1),
    ((steps - 25) / r.after25).toFixed(1),
    r.maxRssMB.toFixed(0),
    r.validation === null ? 'n/a' : r.validation.toFixed(4),
    r.load,
  ];
  rows.push(row('naive from memory (one file)', { ...smallest, partitions: 1 }, child('memory', single)));
  for (const log of logs) rows.push(row(`naive streamed (buffer ${buffer}, DuckDB ${memoryLimit})`, log, child('stream', log.folder)));
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows) console.log(r.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('  '));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
