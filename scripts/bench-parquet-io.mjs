// `node scripts/bench-parquet-io.mjs [SESSIONS]` (after `npm run build`; run by `npm run bench:scale`): the Parquet
// read and write of one clicklab click log (default 1M sessions, top 10, the zipf world), before and after clicklab
// moved its Parquet logs to DuckDB, in one process and one run, so the rows compare. Every step starts or ends with
// the log in memory as clicklab's columns (ClickLog + pscore):
//   write, hyparquet (before): the ParquetSink clicklab had, called here directly: hyparquet-writer, snappy,
//                              row groups of 2^20 rows, the `clicklab` key-value metadata;
//   write, DuckDB (now):       writeClickLog: columns appended to a DuckDB table, then COPY (zstd);
//   read, hyparquet (before):  the readParquet clicklab had: hyparquet's row-group scan into the log's
//                              validating builder (addColumnRows), as readClickLog did;
//   read, DuckDB (now):        readClickLog: DuckDB's chunks into the same builder;
//   read, DuckDB batches:      LogEngine.batches (ClickLog batches of whole sessions, no per-row validation).
// The ratio column is each step's rows/s over the hyparquet step of its kind: the write, or the read of hyparquet's
// own (snappy) file, the only file hyparquet reads.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetSchema, parquetScan } from 'hyparquet';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';

const dist = join(new URL('.', import.meta.url).pathname, '..', 'dist');
const sessions = Number(process.argv[2] ?? 1_000_000);
const { writeClickLog, readClickLog } = await import(join(dist, 'data', 'click-log-io.js'));
const { CLICK_LOG } = await import(join(dist, 'data', 'click-log-table.js'));
const { addColumnRows } = await import(join(dist, 'data', 'log-schema.js'));
const { LogEngine } = await import(join(dist, 'data', 'engine.js'));
const { simulateZipfSessions, resolveZipfWorld } = await import(join(dist, 'simulation', 'search-log', 'zipf-world.js'));
const { createClickModel } = await import(join(dist, 'simulation', 'click-models', 'index.js'));
const { randomStream } = await import(join(dist, 'core', 'random.js'));

/** What clicklab's Parquet writer did before DuckDB (log-format.ts's ParquetSink, hyparquet-writer 0.17). */
async function hyparquetWrite(path, logged) {
  CLICK_LOG.check(logged, false); // as writeClickLog checks a log before writing it (it did twice then, once now)
  const pscore = logged.propensity !== undefined;
  const columns = CLICK_LOG.columns(pscore, false);
  const schema = [{ name: 'root', num_children: columns.length }, ...columns.map(({ name, type }) => ({ name, type: type === 'float32' ? 'FLOAT' : 'INT32', repetition_type: 'REQUIRED' }))];
  const mark = JSON.stringify({ kind: 'click-log', version: 1 });
  const writer = new ParquetWriter({ writer: fileWriter(path), schema, createdBy: 'clicklab', kvMetadata: [{ key: 'clicklab', value: mark }] });
  const data = CLICK_LOG.columnData(logged, 0, false);
  await writer.write({ columnData: columns.map(({ name }, i) => ({ name, data: data[i] })), rowGroupSize: 1 << 20 });
  await writer.finish();
}

/** What clicklab's Parquet reader did before DuckDB (log-format.ts's readParquet): hyparquet's scan, every row validated. */
async function hyparquetRead(path) {
  const file = await asyncBufferFromFile(path);
  const scan = await parquetScan({ file });
  const available = parquetSchema(scan.metadata).children.map((child) => child.element.name);
  const names = CLICK_LOG.resolve(available, path, false, {});
  const builder = CLICK_LOG.builder(names, { file: path, unit: 'row', first: 1 }, Number(scan.metadata.num_rows));
  const wanted = CLICK_LOG.roleNames(names);
  for (const range of scan.ranges) {
    const values = [];
    for (const column of wanted) values.push(column === null ? null : await scan.readColumn({ column, ...range }));
    addColumnRows(builder, wanted, values, range.rowEnd - range.rowStart, null);
  }
  return builder.finish();
}

const world = resolveZipfWorld({ queries: sessions }, 10, 'zipf');
const { log, propensity } = simulateZipfSessions(world, createClickModel({ type: 'pbm' }, 10, 'click-model'), 10, sessions, randomStream(1));
const logged = { log, propensity };
const rowCount = log.document.length;
const dir = mkdtempSync(join(tmpdir(), 'clicklab-bench-io-'));
const rows = [['step', 'seconds', 'rows/s', '× hyparquet', 'MB']];
const baseline = {};
const failures = [];
const time = async (label, kind, file, work) => {
  const t = performance.now();
  try {
    await work();
  } catch (error) {
    rows.push([label, 'fails', '-', '-', '-']);
    failures.push(`${label} fails: ${String(error.problem ?? error.message).slice(0, 120)}`);
    return;
  }
  const s = (performance.now() - t) / 1000;
  const rate = rowCount / s;
  baseline[kind] ??= rate;
  rows.push([label, s.toFixed(2), Math.round(rate).toLocaleString('en-US'), `${(rate / baseline[kind]).toFixed(1)}×`, file ? (statSync(file).size / 2 ** 20).toFixed(1) : '-']);
};
const same = (back) => {
  if (back.log.document.length !== rowCount || back.log.sessionQuery.length !== sessions) throw new Error('read back a different log');
  for (let i = 0; i < rowCount; i += 997) if (back.log.document[i] !== log.document[i] || back.propensity[i] !== propensity[i]) throw new Error(`read back a different log at row ${i}`);
};
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
const loadBefore = load();
try {
  const hyp = join(dir, 'hyparquet.parquet');
  const duck = join(dir, 'duckdb.parquet');
  await time('write, hyparquet-writer (snappy; before)', 'write', hyp, () => hyparquetWrite(hyp, logged));
  await time('write, DuckDB (writeClickLog, zstd; now)', 'write', duck, () => writeClickLog(duck, logged));
  const engine = await LogEngine.open({ memoryLimit: '1GB' });
  for (const [name, file] of [
    ['hyparquet file', hyp],
    ['DuckDB file', duck],
  ]) {
    await time(`read ${name}, hyparquet (before)`, 'read', null, async () => same(await hyparquetRead(file)));
    await time(`read ${name}, DuckDB (readClickLog; now)`, 'read', null, async () => same(await readClickLog(file)));
    await time(`read ${name}, DuckDB (ClickLog batches)`, 'read', null, async () => {
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
for (const failure of failures) console.log(failure);
console.log(`${sessions} sessions, ${rowCount} rows; load average ${loadBefore} → ${load()}`);
