// `node scripts/bench-parquet-io.mjs [SESSIONS]` (after `npm run build`; run by `npm run bench:scale`): hyparquet
// against DuckDB for the Parquet read and write of one clicklab click log (default 1M sessions, top 10, the zipf
// world), in one process and one run, so the rows compare. Both sides start and end with the log in memory as
// clicklab's columns (ClickLog + pscore):
//   write, hyparquet: writeClickLog (hyparquet-writer, snappy), what clicklab does today;
//   write, DuckDB:    LogEngine.writeParquetColumns: appended to a DuckDB table in data chunks, then COPY (zstd);
//   read, hyparquet:  readClickLog (every row validated), of each side's file;
//   read, DuckDB:     LogEngine.batches (ClickLog batches of whole sessions), of each side's file.
import { statSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = join(new URL('.', import.meta.url).pathname, '..', 'dist');
const sessions = Number(process.argv[2] ?? 1_000_000);
const { writeClickLog, readClickLog } = await import(join(dist, 'data', 'click-log-io.js'));
const { LogEngine } = await import(join(dist, 'data', 'engine.js'));
const { simulateZipfSessions, resolveZipfWorld } = await import(join(dist, 'simulation', 'search-log', 'zipf-world.js'));
const { createClickModel } = await import(join(dist, 'simulation', 'click-models', 'index.js'));
const { randomStream } = await import(join(dist, 'core', 'random.js'));

const world = resolveZipfWorld({ queries: sessions }, 10, 'zipf');
const { log, propensity } = simulateZipfSessions(world, createClickModel({ type: 'pbm' }, 10, 'click-model'), 10, sessions, randomStream(1));
const dir = mkdtempSync(join(tmpdir(), 'clicklab-bench-io-'));
const rows = [['step', 'seconds', 'sessions/s', 'MB']];
const time = async (label, file, work) => {
  const t = performance.now();
  try {
    await work();
  } catch (error) {
    rows.push([label, 'fails', String(error.problem ?? error.message).slice(0, 80), '-']);
    return;
  }
  const s = (performance.now() - t) / 1000;
  rows.push([label, s.toFixed(2), Math.round(sessions / s).toLocaleString('en-US'), file ? (statSync(file).size / 2 ** 20).toFixed(1) : '-']);
};
try {
  const hyp = join(dir, 'hyparquet.parquet');
  const duck = join(dir, 'duckdb.parquet');
  await time('write, hyparquet (snappy)', hyp, () => writeClickLog(hyp, { log, propensity }));
  const engine = await LogEngine.open({ memoryLimit: '1GB' });
  await time('write, DuckDB (appender + COPY, zstd)', duck, async () => {
    // The columns as the file stores them (per row: session, query, 1-based position), then LogEngine.writeParquetColumns.
    const n = log.document.length;
    const session = new Int32Array(n);
    const query = new Int32Array(n);
    const position = new Int32Array(n);
    for (let s = 0; s < sessions; s++) {
      for (let r = log.sessionOffsets[s]; r < log.sessionOffsets[s + 1]; r++) {
        session[r] = s;
        query[r] = log.sessionQuery[s];
        position[r] = log.position[r] + 1;
      }
    }
    await engine.writeParquetColumns(duck, [
      { name: 'session', type: 'INTEGER', values: session },
      { name: 'query', type: 'INTEGER', values: query },
      { name: 'item_id', type: 'INTEGER', values: log.document },
      { name: 'position', type: 'INTEGER', values: position },
      { name: 'click', type: 'INTEGER', values: log.click },
      { name: 'pscore', type: 'FLOAT', values: propensity },
    ]);
  });
  for (const [name, file] of [
    ['hyparquet file', hyp],
    ['DuckDB file', duck],
  ]) {
    await time(`read ${name}, hyparquet (readClickLog)`, null, async () => {
      const back = await readClickLog(file);
      if (back.log.document.length !== log.document.length) throw new Error('read back a different log');
    });
    await time(`read ${name}, DuckDB (ClickLog batches)`, null, async () => {
      let n = 0;
      for await (const batch of engine.batches(file)) n += batch.sessionQuery.length;
      if (n !== sessions) throw new Error(`read back ${n} sessions`);
    });
  }
  engine.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const widths = rows[0].map((_, j) => Math.max(...rows.map((row) => row[j].length)));
for (const row of rows) console.log(row.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('  '));
console.log(
  `${sessions} sessions, ${log.document.length} rows; load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
