/**
 * Parquet worlds: a fitted world as a folder that scales past one JSON (V8's string limit, about 10⁷
 * rankings), written by `FittedWorld.saveParquet` (from memory) or `writeCountedWorld` (by DuckDB,
 * from a fit on pair classes), and read back as a stream of ranking batches for
 * `simulateOnRankings` by one sequential scan: memory holds one batch, whatever the world's size.
 *
 * Files (docs/scale.md "Fitted worlds as Parquet"):
 *   world.json        format, model, list length, source, the parameters that are not per pair, the
 *                     names of the per-pair ones, `textIds`, the fit's quality;
 *   pairs.parquet     query, document (text, for a log with text ids), attractiveness and any per-pair
 *                     parameter: the fitted parameters per (query, document);
 *   rankings.parquet  one row per slot of each distinct logged ranking, in rank order, rankings
 *                     numbered 0, 1, … in file order: ranking, query, document (the ids; for text ids
 *                     their index in the files below), sessions (the ranking's logged sessions, on each
 *                     of its rows), propensity (the logged probability of the document at that rank
 *                     given the query), attractiveness and the per-pair parameters — everything a
 *                     simulation needs, so reading it takes no join and no sort;
 *   query-ids.parquet, document-ids.parquet   (text ids only) text, row k the text of id k.
 */
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ConfigError, DataFormatError } from '../core/errors.js';
import { PendingFile, writeFileAtomic, writeFolderAtomic } from '../core/files.js';
import type { EngineLogOptions, LogEngine } from '../data/engine.js';
import { literal, partOf } from '../data/sql-text.js';
import type { FittedParameters } from './model.js';
import { FITTED_MODEL_TYPES, type FittedModelType } from './registry.js';
import type { RankingBatch, WorldRankings } from './world-simulation.js';

/** The `format` of a Parquet world's `world.json`. */
export const PARQUET_WORLD_FORMAT = 'clicklab/fitted-world-parquet@2';

/** A Parquet world's metadata (`world.json` in its folder). */
export interface ParquetWorldJson {
  readonly format: typeof PARQUET_WORLD_FORMAT;
  readonly model: FittedModelType;
  readonly listLength: number;
  readonly source: string;
  /** The id columns that are text (pairs.parquet holds the text, rankings.parquet the index in `<role>-ids.parquet`), if any. */
  readonly textIds?: readonly ('query' | 'document')[];
  readonly numPairs: number;
  readonly numRankings: number;
  /** The parameters other than per pair. */
  readonly parameters: FittedParameters;
  /** The names of the per-pair parameters, columns of pairs.parquet and rankings.parquet beside attractiveness. */
  readonly pairParameters: readonly string[];
  readonly fit?: unknown;
}

/** Slots of the logged rankings per part while a world is written by DuckDB (parts hold whole queries, so some hold more). */
const SLOTS_PER_PART = 1 << 22;

/** Rows (slots) per ranking batch, about. */
const SLOTS_PER_BATCH = 1 << 18;

/** A Parquet world open for simulation: its rankings as a stream, and the text of its ids where they are text. */
export interface ParquetWorld extends WorldRankings {
  readonly meta: ParquetWorldJson;
  /** Writes `OUT.query-ids.txt` / `OUT.item-ids.txt` (line k: the text of id k) for the id columns that are text; returns the files. */
  writeIdTexts(out: string): Promise<string[]>;
  close(): void;
}

/** Reads and checks a Parquet world's `world.json`. */
export async function readParquetWorldMeta(folder: string): Promise<ParquetWorldJson> {
  const file = join(folder, 'world.json');
  let meta: ParquetWorldJson;
  try {
    meta = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new DataFormatError(file, null, `expected a Parquet world's metadata (JSON, "format": "${PARQUET_WORLD_FORMAT}"): ${(error as Error).message}`);
  }
  const fail = (problem: string): never => {
    throw new DataFormatError(file, null, problem);
  };
  if (meta?.format !== PARQUET_WORLD_FORMAT) fail(`expected "format": "${PARQUET_WORLD_FORMAT}", found ${JSON.stringify(meta?.format)} (a world saved by another version: fit it again)`);
  if (!FITTED_MODEL_TYPES.includes(meta.model)) fail(`"model": expected one of ${FITTED_MODEL_TYPES.join(', ')}, found ${JSON.stringify(meta.model)}`);
  if (!Number.isInteger(meta.listLength) || meta.listLength < 1) fail(`"listLength": expected an integer ≥ 1, found ${JSON.stringify(meta.listLength)}`);
  if (typeof meta.parameters !== 'object' || meta.parameters === null) fail('"parameters": expected an object');
  if (!Array.isArray(meta.pairParameters) || !meta.pairParameters.every((n) => typeof n === 'string' && /^\w+$/.test(n))) fail('"pairParameters": expected a list of column names');
  if (meta.textIds !== undefined && !(Array.isArray(meta.textIds) && meta.textIds.every((c) => c === 'query' || c === 'document'))) fail('"textIds": expected a list of "query" and "document"');
  return meta;
}

/** Opens a Parquet world for streamed simulation (a DuckDB engine of its own; `close` it). */
export async function openParquetWorld(folder: string): Promise<ParquetWorld> {
  const meta = await readParquetWorldMeta(folder);
  const { LogEngine } = await import('../data/engine.js');
  // A sequential scan needs little of DuckDB's memory: the rest stays for the log's writer (a second engine).
  const engine = await LogEngine.open({ memoryLimit: '256MB' });
  const rankings = join(folder, 'rankings.parquet');
  try {
    const names = meta.pairParameters;
    const columns = ['ranking', 'query', 'document', 'sessions', 'propensity', 'attractiveness', ...names];
    const types = ['INTEGER', 'INTEGER', 'INTEGER', 'DOUBLE', 'DOUBLE', 'DOUBLE', ...names.map(() => 'DOUBLE')];
    // In file order (DuckDB keeps a scan's row order): no join, no sort.
    const sql = `SELECT ${columns.map((c, j) => `CAST("${c}" AS ${types[j]})`).join(', ')} FROM read_parquet(${literal(rankings)})`;
    let totalSessions: number;
    try {
      [totalSessions] = await engine.numbers(`SELECT coalesce(sum(sessions), 0) FROM (SELECT first(sessions) AS sessions FROM read_parquet(${literal(rankings)}) GROUP BY ranking)`);
      await engine.run(`DESCRIBE ${sql}`);
    } catch (error) {
      throw new DataFormatError(rankings, null, `expected the Parquet world's rankings with columns ${columns.join(', ')}: ${(error as Error).message.split('\n')[0]}`);
    }
    const text = new Set(meta.textIds ?? []);
    return {
      meta,
      model: meta.model,
      listLength: meta.listLength,
      parameters: meta.parameters,
      totalSessions,
      file: folder,
      batches: () => rankingBatches(engine, sql, rankings, names, meta.listLength),
      async writeIdTexts(out) {
        const files: string[] = [];
        for (const [role, suffix] of [
          ['query', 'query-ids.txt'],
          ['document', 'item-ids.txt'],
        ] as const) {
          if (!text.has(role)) continue;
          const ids = join(folder, `${role}-ids.parquet`);
          files.push(await writeLines(engine, `SELECT CAST(text AS VARCHAR) FROM read_parquet(${literal(ids)})`, `${out}.${suffix}`, ids));
        }
        return files;
      },
      close: () => engine.close(),
    };
  } catch (error) {
    engine.close();
    throw error;
  }
}

/** rankings.parquet's rows (ranking, query, document, sessions, propensity, attractiveness, per-pair …) as batches of whole rankings, checked as they come. */
async function* rankingBatches(engine: LogEngine, sql: string, file: string, names: readonly string[], L: number): AsyncGenerator<RankingBatch> {
  const { numericColumn } = await import('../data/engine.js');
  const fail = (row: number, problem: string): never => {
    throw new DataFormatError(file, null, `row ${row}: ${problem}`);
  };
  // A batch ends at a ranking's start once it holds SLOTS_PER_BATCH slots; a ranking longer than the list is refused before it could overflow.
  const capacity = SLOTS_PER_BATCH + L;
  let b = new BatchBuilder(capacity, names);
  let previous = -1;
  let row = 0;
  for await (const chunk of engine.chunks(sql)) {
    const n = chunk.rowCount;
    const [ranking, q, d, w, propensity, a, ...perPair] = Array.from({ length: 6 + names.length }, (_, j) => numericColumn(chunk.getColumnVector(j), n));
    for (let i = 0; i < n; i++, row++) {
      if (ranking[i] !== previous) {
        if (ranking[i] !== previous + 1) fail(row, `expected the rows of ranking ${previous + 1} after those of ranking ${previous} (rankings numbered 0, 1, … in order), found ranking ${ranking[i]}`);
        if (b.slots >= SLOTS_PER_BATCH) {
          yield b.finish();
          b = new BatchBuilder(capacity, names);
        }
        previous = ranking[i];
        b.startRanking(q[i], w[i]);
      } else if (w[i] !== b.currentSessions() || q[i] !== b.currentQuery()) fail(row, `ranking ${previous}: expected one query and one number of sessions on all its rows`);
      else if (b.currentLength() >= L) fail(row, `ranking ${previous} has more than the list length of ${L} results`);
      const at = b.slots++;
      b.document[at] = d[i];
      b.propensity[at] = propensity[i];
      b.attractiveness[at] = a[i];
      for (let j = 0; j < perPair.length; j++) b.perPair[j][at] = perPair[j][i];
    }
  }
  if (previous < 0) throw new DataFormatError(file, null, 'expected at least one ranking, found none');
  yield b.finish();
}

/** A ranking batch filled row by row, into typed arrays of a fixed capacity (a batch ends before it overflows). */
class BatchBuilder {
  slots = 0;
  private readonly sessions: number[] = [];
  private readonly query: number[] = [];
  private readonly offsets: number[] = [0];
  readonly document: Int32Array;
  readonly propensity: Float32Array;
  readonly attractiveness: Float64Array;
  readonly perPair: Float64Array[];

  constructor(
    readonly capacity: number,
    private readonly names: readonly string[],
  ) {
    this.document = new Int32Array(capacity);
    this.propensity = new Float32Array(capacity);
    this.attractiveness = new Float64Array(capacity);
    this.perPair = names.map(() => new Float64Array(capacity));
  }

  currentSessions(): number {
    return this.sessions[this.sessions.length - 1];
  }

  currentQuery(): number {
    return this.query[this.query.length - 1];
  }

  currentLength(): number {
    return this.slots - this.offsets[this.offsets.length - 1];
  }

  startRanking(query: number, sessions: number): void {
    if (this.query.length > 0) this.offsets.push(this.slots);
    this.query.push(query);
    this.sessions.push(sessions);
  }

  finish(): RankingBatch {
    this.offsets.push(this.slots);
    const n = this.slots;
    return {
      sessions: Float64Array.from(this.sessions),
      query: Int32Array.from(this.query),
      offsets: Int32Array.from(this.offsets),
      document: this.document.subarray(0, n),
      propensity: this.propensity.subarray(0, n),
      attractiveness: this.attractiveness.subarray(0, n),
      pairParameters: Object.fromEntries(this.names.map((name, j) => [name, this.perPair[j].subarray(0, n)])),
    };
  }
}

/** The first column of `sql`'s rows, one a line, to `file` (atomically), streamed; read failures name `input`. */
async function writeLines(engine: LogEngine, sql: string, file: string, input: string): Promise<string> {
  const pending = new PendingFile(file);
  try {
    const stream = createWriteStream(pending.temporary);
    try {
      for await (const chunk of engine.chunks(sql)) {
        const vector = chunk.getColumnVector(0);
        const lines: string[] = [];
        for (let i = 0; i < chunk.rowCount; i++) lines.push(String(vector.getItem(i)));
        if (!stream.write(`${lines.join('\n')}\n`)) await once(stream, 'drain');
      }
    } catch (error) {
      throw new DataFormatError(input, null, `expected the Parquet world's ids (a text column): ${(error as Error).message.split('\n')[0]}`);
    } finally {
      stream.end();
      await once(stream, 'close');
    }
    await pending.commit();
  } catch (error) {
    await pending.abort();
    throw error;
  }
  return file;
}

/** What `writeCountedWorld` needs of a fit on pair classes. */
export interface CountedWorld {
  /** The training log (file, folder or glob) and how it was read. */
  readonly log: string;
  readonly logOptions: EngineLogOptions;
  /** The engine's table (q, d, class) of the training pairs (`PairClasses.pairTable`). */
  readonly pairTable: string;
  /** α of each class. */
  readonly classAttractiveness: Float64Array;
  /** world.json's fields other than the format, counts and text ids. */
  readonly meta: Omit<ParquetWorldJson, 'format' | 'numPairs' | 'numRankings' | 'textIds'>;
  /** Slots of the logged rankings per part (default 2²²; tests use fewer to cover several parts). */
  readonly slotsPerPart?: number;
}

/** One slot's hash for a ranking's multiset hash: nonlinear in (rank, query, document), the second half re-hashed with a constant. */
function rankingSlotHash(second: boolean): string {
  const first = 'hash(xor(hash(xor(hash(CAST(k AS UBIGINT)), hash(q))), hash(d)))';
  return `CAST(${second ? `hash(xor(${first}, CAST(6364136223846793005 AS UBIGINT)))` : first} AS HUGEINT)`;
}

/**
 * A Parquet world written by DuckDB from a PBM or UBM fit on pair classes, with nothing per pair or
 * per ranking in JavaScript: pairs.parquet is the pairs' table (ordered by query, document) joined to
 * their classes' α; the rankings are the training log's sessions grouped by a 128-bit multiset hash
 * of their (rank, query, document) slots (as the classes are, data/count-classes.ts), each written
 * from its first session's slots with its propensities (sums over the rankings of its query). The
 * rankings go in parts of whole queries (query id mod the number of parts, which grows with the
 * rankings' slots), numbered part by part and in order of their first session within a part: the
 * sums and joins run on one part at a time, so memory does not grow with the log (a 100M-session
 * log's rankings ran DuckDB out of memory in one piece). The folder is written atomically.
 */
export async function writeCountedWorld(engine: LogEngine, folder: string, world: CountedWorld): Promise<{ readonly pairs: number; readonly rankings: number }> {
  const slots = await engine.slots(world.log, world.logOptions);
  const dictionaries = { query: engine.idDictionary('query'), document: engine.idDictionary('item') };
  let counts = { pairs: 0, rankings: 0 };
  const copy = (sql: string, file: string) => engine.run(`COPY (${sql}) TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`);
  const tables = ['world_alphas', 'world_sessions', 'world_rankings', 'world_slots', 'world_shown', 'world_asked', 'world_next'];
  // A table replaced by a query over it (through world_next).
  const replaceTable = async (table: string, sql: string) => {
    await engine.run(`CREATE TEMPORARY TABLE world_next AS ${sql}`);
    await engine.run(`DROP TABLE ${table}`);
    await engine.run(`ALTER TABLE world_next RENAME TO ${table}`);
  };
  // Half of DuckDB's memory while the world is written: its joins and COPYs spill rather than hold more (measured: UBM at 10M sessions peaked at 2.26 GB with the whole limit).
  const [limit] = await engine.rows("SELECT current_setting('memory_limit')");
  await engine.run(`SET memory_limit = '${Math.max(256, Math.floor(parseByteSize(String(limit[0])) / 2 ** 21))}MB'`);
  try {
    await writeFolderAtomic(folder, async (temporary) => {
      const alphas = join(temporary, 'classes.parquet');
      await engine.writeParquetColumns(alphas, [{ name: 'attractiveness', type: 'DOUBLE', values: world.classAttractiveness }]);
      await engine.run(`CREATE TEMPORARY TABLE world_alphas AS SELECT CAST(file_row_number AS INTEGER) AS class, attractiveness FROM read_parquet(${literal(alphas)}, file_row_number = true)`);
      rmSync(alphas);
      // pairs.parquet: text ids as their text, integer ids as they are.
      const textOf = (role: 'query' | 'document', column: string) => {
        const table = dictionaries[role];
        return table === null
          ? { select: `p.${column} AS ${role}`, join: '' }
          : { select: `${role}_text.clicklab_text AS ${role}`, join: ` JOIN ${table} ${role}_text ON ${role}_text.clicklab_id = p.${column}` };
      };
      const [q, d] = [textOf('query', 'q'), textOf('document', 'd')];
      await copy(`SELECT ${q.select}, ${d.select}, a.attractiveness FROM ${world.pairTable} p JOIN world_alphas a USING (class)${q.join}${d.join} ORDER BY p.q, p.d`, join(temporary, 'pairs.parquet'));
      for (const role of ['query', 'document'] as const) {
        const table = dictionaries[role];
        if (table !== null) await copy(`SELECT clicklab_text AS text FROM ${table} ORDER BY clicklab_id`, join(temporary, `${role}-ids.parquet`));
      }
      await engine.run(`CREATE TEMPORARY TABLE world_sessions AS SELECT f, s, min(q) AS q, count(*) AS n, min(k) AS lo, max(k) AS hi,
        sum(${rankingSlotHash(false)}) AS h1, sum(${rankingSlotHash(true)}) AS h2 FROM (${slots}) GROUP BY f, s`);
      const [gapped] = await engine.numbers('SELECT count(*) FROM world_sessions WHERE lo <> 0 OR hi <> n - 1');
      if (gapped > 0) throw new ConfigError(world.log, `${gapped} sessions have ranks that are not 1, 2, …, n: a world's rankings need whole sessions ranked from 1`);
      // A ranking's first session: the least (file, session), as one HUGEINT for integer session ids (a STRUCT's min is not
      // spilled: at 100M sessions it took the process to 2.8 GB), as a STRUCT otherwise.
      const [[sessionType]] = await engine.rows(`SELECT typeof(s) FROM (${slots}) LIMIT 1`);
      const sessionKey = (at: string) =>
        /^U?(TINY|SMALL|BIG|)INT(EGER)?$/.test(String(sessionType)) ? `(CAST(${at}f AS HUGEINT) * 36893488147419103232 + CAST(${at}s AS HUGEINT) + 9223372036854775808)` : `{'f': ${at}f, 's': ${at}s}`;
      await replaceTable('world_sessions', `SELECT min(${sessionKey('')}) AS first, count(*) AS w, q, n FROM world_sessions GROUP BY q, n, h1, h2`);
      // Parts of whole queries (q mod parts), a bounded number of slots each, written one after the other: the propensities' sums and the joins run a part at a time.
      const [rankingSlots] = await engine.numbers('SELECT coalesce(sum(n), 0) FROM world_sessions');
      const parts = Math.max(1, Math.ceil(rankingSlots / (world.slotsPerPart ?? SLOTS_PER_PART)));
      await engine.run(`CREATE TEMPORARY TABLE world_rankings AS SELECT CAST(row_number() OVER (ORDER BY ${partOf('q', parts)}, first) - 1 AS INTEGER) AS ranking,
        CAST(${partOf('q', parts)} AS INTEGER) AS part, first, w FROM world_sessions`);
      await engine.run('DROP TABLE world_sessions');
      const scratch = join(temporary, 'parts');
      mkdirSync(scratch);
      const partFiles = (name: string, part: number) => literal(join(scratch, name, `part=${part}`, '*.parquet'));
      // Each ranking's slots from its first session, and the pairs with their α, split into the parts' files.
      await engine.run(`COPY (SELECT r.part, r.ranking, r.w, x.k, x.q, x.d FROM (${slots}) x JOIN world_rankings r ON r.first = ${sessionKey('x.')})
        TO ${literal(join(scratch, 'slots'))} (FORMAT parquet, PARTITION_BY (part))`);
      await engine.run(`COPY (SELECT CAST(${partOf('p.q', parts)} AS INTEGER) AS part, p.q, p.d, a.attractiveness FROM ${world.pairTable} p JOIN world_alphas a USING (class))
        TO ${literal(join(scratch, 'pairs'))} (FORMAT parquet, PARTITION_BY (part))`);
      const written: string[] = [];
      for (let part = 0; part < parts; part++) {
        if (!existsSync(join(scratch, 'slots', `part=${part}`))) continue;
        // The propensity of a slot: Σ sessions of the query's rankings with that document at that rank / Σ sessions of the query.
        // One join per statement, each result a table: in one statement the joins' hash tables ran out of DuckDB's 1 GB at 10M sessions.
        await engine.run(`CREATE TEMPORARY TABLE world_slots AS SELECT ranking, w, k, q, d FROM read_parquet(${partFiles('slots', part)})`);
        await engine.run('CREATE TEMPORARY TABLE world_shown AS SELECT q, d, k, sum(w) AS n FROM world_slots GROUP BY q, d, k');
        await engine.run('CREATE TEMPORARY TABLE world_asked AS SELECT q, sum(w) AS n FROM world_slots WHERE k = 0 GROUP BY q');
        await replaceTable('world_slots', 'SELECT s.*, CAST(sh.n / ak.n AS FLOAT) AS propensity FROM world_slots s JOIN world_shown sh USING (q, d, k) JOIN world_asked ak USING (q)');
        await replaceTable('world_slots', `SELECT s.*, p.attractiveness FROM world_slots s JOIN read_parquet(${partFiles('pairs', part)}) p USING (q, d)`);
        const file = join(scratch, `rankings-${part}.parquet`);
        await copy('SELECT ranking, q AS query, d AS document, CAST(w AS DOUBLE) AS sessions, propensity, attractiveness FROM world_slots ORDER BY ranking, k', file);
        for (const table of ['world_slots', 'world_shown', 'world_asked']) await engine.run(`DROP TABLE ${table}`);
        written.push(file);
      }
      // The parts in order (rankings are numbered part by part): DuckDB keeps the files' order (preserve_insertion_order).
      await copy(`SELECT * FROM read_parquet([${written.map(literal).join(', ')}])`, join(temporary, 'rankings.parquet'));
      rmSync(scratch, { recursive: true });
      const [pairs] = await engine.numbers(`SELECT count(*) FROM ${world.pairTable}`);
      const [rankings] = await engine.numbers('SELECT count(*) FROM world_rankings');
      counts = { pairs, rankings };
      const textIds = (['query', 'document'] as const).filter((role) => dictionaries[role] !== null);
      const meta = { format: PARQUET_WORLD_FORMAT, ...world.meta, ...(textIds.length > 0 ? { textIds } : {}), numPairs: pairs, numRankings: rankings };
      writeFileAtomic(join(temporary, 'world.json'), `${JSON.stringify(meta)}\n`);
    });
  } finally {
    for (const table of tables) await engine.run(`DROP TABLE IF EXISTS ${table}`);
    await engine.run(`SET memory_limit = ${literal(String(limit[0]))}`);
  }
  return counts;
}

/** Bytes of a DuckDB size setting such as '953.6 MiB' or '1.0 GiB'. */
function parseByteSize(text: string): number {
  const m = /^([\d.]+)\s*([KMGT]?i?B)$/i.exec(text.trim());
  if (m === null) throw new RangeError(`unexpected DuckDB memory size '${text}'`);
  const unit = m[2].toUpperCase().replace('I', '');
  return Number(m[1]) * { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 }[unit]!;
}
