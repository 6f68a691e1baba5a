/**
 * Click logs as Parquet through DuckDB: zstd files other tools write are read (validated row by row
 * as before), clicklab's own files are zstd with its mark in the footer, the streaming writer
 * gives the log back as written, and a failed or abandoned write leaves the previous file as it was.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import type { LoggedClicks } from '../../src/data/click-log-table.js';
import { ClickLogWriter, readClickLog, readClickLogOrigin, readGenericClickLog, writeClickLog } from '../../src/data/click-log-io.js';
import { LogEngine } from '../../src/data/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-parquet-log-'));
let engine: LogEngine;
beforeAll(async () => {
  engine = await LogEngine.open({ memoryLimit: '256MB', threads: 1 });
});
afterAll(() => {
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sessions of 2 and 3 slots over 3 sessions, with propensities and truth. */
function handMade(sessionQuery = Int32Array.of(7, 3, 7)): Required<LoggedClicks> {
  return {
    log: {
      sessionQuery,
      sessionOffsets: Int32Array.of(0, 2, 5, 7),
      document: Int32Array.of(5, 6, 1, 2, 3, 6, 5),
      position: Uint16Array.of(0, 1, 0, 1, 2, 0, 1),
      click: Uint8Array.of(1, 0, 0, 0, 1, 0, 0),
    },
    propensity: Float32Array.of(1, 0.5, 1, 1 / 3, 0.25, 1, 0.5),
    truth: {
      examinationProbability: Float32Array.of(1, 0.5, 1, 1 / 3, 0.25, 1, 0.5),
      relevanceProbability: Float32Array.of(0.9, 0.1, 0, 0.2, 0.7, 0.05, 0.3),
      examined: Uint8Array.of(1, 1, 1, 0, 1, 1, 0),
    },
  };
}

/** The typed arrays of a log, as plain arrays for equality. */
function plain(logged: LoggedClicks): unknown {
  const { log, propensity, truth } = logged;
  return {
    types: [log.sessionQuery, log.sessionOffsets, log.document, log.position, log.click, propensity].map((a) => a?.constructor.name),
    sessionQuery: Array.from(log.sessionQuery),
    sessionOffsets: Array.from(log.sessionOffsets),
    document: Array.from(log.document),
    position: Array.from(log.position),
    click: Array.from(log.click),
    propensity: propensity && Array.from(propensity),
    truth: truth && [truth.examinationProbability, truth.relevanceProbability, truth.examined].map((a) => Array.from(a)),
  };
}

/** Per column of a Parquet file: its physical type and codec (DuckDB's parquet_metadata). */
async function columnsOf(file: string): Promise<Record<string, string>> {
  const rows = await engine.rows(`SELECT DISTINCT path_in_schema, type, compression FROM parquet_metadata('${file}') ORDER BY path_in_schema`);
  return Object.fromEntries(rows.map((r) => [String(r[0]), `${String(r[1])} ${String(r[2])}`]));
}

describe('Parquet click logs through DuckDB', () => {
  it('reads a zstd log another tool wrote (64-bit integers, doubles, a boolean click), row order kept', async () => {
    const file = join(dir, 'other-tool.parquet');
    // As pandas or Spark write it: BIGINT ids, DOUBLE pscore, BOOLEAN click, an extra column; zstd.
    await engine.run(`COPY (SELECT * FROM (VALUES
        (0::BIGINT, 7::BIGINT, 5::BIGINT, 1::BIGINT, true, 1.0::DOUBLE, 'x'),
        (0, 7, 6, 2, false, 0.5, 'y'),
        (1, 3, 1, 1, false, 1.0, 'z'),
        (1, 3, 2, 2, false, 0.25, 'z'),
        (1, 3, 3, 3, true, 0.25, 'z'),
        (2, 7, 6, 1, false, 1.0, 'w'),
        (2, 7, 5, 2, false, 0.5, 'w')) t(session, query, item_id, position, click, pscore, note))
      TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
    expect((await columnsOf(file)).session).toBe('INT64 ZSTD');
    // hyparquet, the reader before, could not read this file at all ('unsupported compression codec: ZSTD').
    const { log, propensity } = await readClickLog(file).catch((error: unknown) => {
      // A boolean is not a number: the reader refuses it, naming the row, rather than coercing it.
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toBe(`${file}: row 1: expected a number in column 'click', found the boolean true`);
      return { log: null, propensity: null };
    });
    expect(log).toBeNull();
    expect(propensity).toBeNull();
    const integral = join(dir, 'other-tool-int.parquet');
    await engine.run(`COPY (SELECT * REPLACE (CAST(click AS BIGINT) AS click) FROM '${file}') TO '${integral}' (FORMAT parquet, COMPRESSION zstd)`);
    const back = await readClickLog(integral);
    const expected = handMade();
    expect(plain(back)).toEqual(plain({ log: expected.log, propensity: Float32Array.of(1, 0.5, 1, 0.25, 0.25, 1, 0.5) }));
  });

  it('reads text ids from a zstd file (readGenericClickLog) and reports a NULL at its 1-based row', async () => {
    const file = join(dir, 'text-ids.parquet');
    await engine.run(`COPY (SELECT * FROM (VALUES ('q1', 'u1', 1, 1), ('q1', 'u2', 2, 0), ('q2', 'u2', 1, 0)) t(qid, url, rank, clicked))
      TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
    const columns = { session: null, query: 'qid', item: 'url', position: 'rank', click: 'clicked' } as const;
    const read = await readGenericClickLog(file, { columns, ids: 'text' });
    expect(read.queryIds).toEqual(['q1', 'q2']);
    expect(read.itemIds).toEqual(['u1', 'u2']);
    expect(Array.from(read.logged.log.document)).toEqual([0, 1, 1]);

    // A NULL in the 2,050th row: past DuckDB's first data chunk (2048 rows), so the row count runs on across chunks.
    const nulls = join(dir, 'null.parquet');
    await engine.run(`COPY (SELECT i AS session, 0 AS query, 1 AS item_id, 1 AS position, CASE WHEN i = 2049 THEN NULL ELSE 0 END AS click FROM range(3000) r(i))
      TO '${nulls}' (FORMAT parquet, COMPRESSION zstd)`);
    await expect(readClickLog(nulls)).rejects.toThrow(`${nulls}: row 2050: expected a number in column 'click', found an empty value (null)`);
  });

  it('writes zstd with INT32 and FLOAT columns and the origin in the footer, and reads back what it wrote', async () => {
    const file = join(dir, 'round-trip.parquet');
    const logged = handMade();
    await writeClickLog(file, logged, { truth: true, origin: { dataset: 'letor:x.txt', fold: 2, split: 'train' } });
    expect(await columnsOf(file)).toEqual({
      click: 'INT32 ZSTD',
      item_id: 'INT32 ZSTD',
      position: 'INT32 ZSTD',
      pscore: 'FLOAT ZSTD',
      query: 'INT32 ZSTD',
      session: 'INT32 ZSTD',
      truth_examination_probability: 'FLOAT ZSTD',
      truth_examined: 'INT32 ZSTD',
      truth_relevance_probability: 'FLOAT ZSTD',
    });
    expect(await readClickLogOrigin(file)).toEqual({ dataset: 'letor:x.txt', fold: 2, split: 'train' });
    const kv = await engine.rows(`SELECT decode(key), decode(value) FROM parquet_kv_metadata('${file}')`);
    expect(kv).toEqual([['clicklab', JSON.stringify({ kind: 'click-log', version: 1, dataset: 'letor:x.txt', fold: 2, split: 'train' })]]);
    expect(plain(await readClickLog(file, { truth: true }))).toEqual(plain(logged));
    expect(plain(await readClickLog(file))).toEqual(plain({ log: logged.log, propensity: logged.propensity }));
  });

  it('streams chunks into one file, sessions numbered on, row groups of 2^20 rows whatever the chunks', async () => {
    const file = join(dir, 'streamed.parquet');
    const writer = await ClickLogWriter.open(file);
    // 160,000 chunks' worth of rows would be slow here; 700 chunks of 7 rows make 4,900 rows in three DuckDB chunks.
    for (let c = 0; c < 700; c++) {
      const { log, propensity } = handMade(Int32Array.of(c, c + 1, c + 2));
      await writer.write({ log, propensity });
    }
    await writer.close();
    expect(writer.sessions).toBe(2100);
    const groups = await engine.rows(`SELECT count(DISTINCT row_group_id), max(row_group_num_rows) FROM parquet_metadata('${file}')`);
    expect(groups.map((r) => r.map(Number))).toEqual([[1, 4900]]);
    const sessions = await engine.rows(`SELECT min(session), max(session), count(DISTINCT session) FROM '${file}'`);
    expect(sessions.map((r) => r.map(Number))).toEqual([[0, 2099, 2100]]);
    const back = await readClickLog(file);
    expect(back.log.sessionQuery.length).toBe(2100);
    expect(Array.from(back.log.sessionQuery.subarray(3, 6))).toEqual([1, 2, 3]);
    expect(Array.from(back.log.document.subarray(7, 14))).toEqual([5, 6, 1, 2, 3, 6, 5]);
    expect(back.propensity![4896]).toBe(Math.fround(1 / 3));
  });

  it('an abandoned write leaves the previous file untouched and no temporary behind', async () => {
    const file = join(dir, 'kept.parquet');
    await writeClickLog(file, handMade());
    const before = readFileSync(file);
    const writer = await ClickLogWriter.open(file);
    await writer.write(handMade());
    // A chunk that fails its checks: the writer stays open, nothing is written.
    const bad = handMade();
    bad.log.click[0] = 2;
    await expect(writer.write(bad)).rejects.toThrow();
    await writer.abort();
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('kept.parquet'))).toEqual(['kept.parquet']);
  });

  it('a write past a file-size limit fails in one line naming the file, and leaves the previous file and no temporary', { timeout: 60_000 }, () => {
    const sub = mkdtempSync(join(dir, 'limit-'));
    const file = join(sub, 'big.parquet');
    writeFileSync(file, 'the previous file\n');
    const script = join(sub, 'write.mjs');
    // As the CLI runs it (dist, built by the test script's pretest). 200,000 sessions of random documents: a zstd file of about 3 MB, far past the limit of 256 blocks (128–256 KiB).
    writeFileSync(
      script,
      `import { writeClickLog } from ${JSON.stringify(join(process.cwd(), 'dist/data/click-log-io.js'))};
      const n = 200_000, rows = n * 10;
      const document = Int32Array.from({ length: rows }, (_, i) => (Math.imul(i, 2654435761) >>> 7) % 1000003);
      const log = { sessionQuery: Int32Array.from({ length: n }, (_, s) => s), sessionOffsets: Int32Array.from({ length: n + 1 }, (_, s) => s * 10),
        document, position: Uint16Array.from({ length: rows }, (_, i) => i % 10), click: new Uint8Array(rows) };
      try { await writeClickLog(${JSON.stringify(file)}, { log }); } catch (error) { console.error(error.message); process.exit(1); }`,
    );
    let stderr = '';
    try {
      execFileSync('sh', ['-c', `trap '' XFSZ; ulimit -f 256; exec "${process.execPath}" "${script}"`], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr?: string }).stderr);
    }
    expect(stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write the file: .*; the previous file, if any, is untouched$`));
    expect(readFileSync(file, 'utf8')).toBe('the previous file\n');
    expect(readdirSync(sub).sort()).toEqual(['big.parquet', 'write.mjs']);
  });
});
