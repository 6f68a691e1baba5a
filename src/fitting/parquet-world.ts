/**
 * A Parquet world (a folder written by `FittedWorld.saveParquet` or `writeCountedWorld`) read as a
 * stream of ranking batches for `simulateOnRankings`, through DuckDB: the rankings joined to their
 * pairs' parameters and to the logged propensity of each slot, in ranking order. Memory holds one
 * batch, whatever the size of the world; the joins and sums spill to DuckDB's temporary folder.
 *
 * Files (docs/scale.md "Fitted worlds as Parquet"): `world.json` (format, model, list length, the
 * parameters that are not per pair, the names of the per-pair ones, textIds), `pairs.parquet`
 * (query, document, attractiveness, per-pair parameters; a pair's index is its row),
 * `rankings.parquet` (ranking, pair: each ranking's rows together, in rank order) and
 * `ranking-sessions.parquet` (sessions; a ranking's index is its row).
 */
import { createWriteStream, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ConfigError, DataFormatError } from '../core/errors.js';
import { PendingFile, writeFileAtomic, writeFolderAtomic } from '../core/files.js';
import type { EngineLogOptions, LogEngine } from '../data/engine.js';
import type { FittedParameters } from './model.js';
import { FITTED_MODEL_TYPES, type FittedModelType } from './registry.js';
import type { RankingBatch, WorldRankings } from './world-simulation.js';

/** The `format` of a Parquet world's `world.json`. */
export const PARQUET_WORLD_FORMAT = 'clicklab/fitted-world-parquet@1';

/** A Parquet world's metadata (`world.json` in its folder). */
export interface ParquetWorldJson {
  readonly format: typeof PARQUET_WORLD_FORMAT;
  readonly model: FittedModelType;
  readonly listLength: number;
  readonly source: string;
  /** The id columns of pairs.parquet that hold text (VARCHAR), if any. */
  readonly textIds?: readonly ('query' | 'document')[];
  readonly numPairs: number;
  readonly numRankings: number;
  /** The parameters other than per pair. */
  readonly parameters: FittedParameters;
  /** The names of the per-pair parameters, columns of pairs.parquet beside attractiveness. */
  readonly pairParameters: readonly string[];
  readonly fit?: unknown;
}

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
  if (meta?.format !== PARQUET_WORLD_FORMAT) fail(`expected "format": "${PARQUET_WORLD_FORMAT}", found ${JSON.stringify(meta?.format)}`);
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
  const { LogEngine, literal } = await import('../data/engine.js');
  const engine = await LogEngine.open();
  try {
    const file = (name: string) => `read_parquet(${literal(join(folder, name))}, file_row_number = true)`;
    const fail = (name: string, problem: string): never => {
      throw new DataFormatError(join(folder, name), null, problem);
    };
    const tried = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch (error) {
        if (error instanceof DataFormatError) throw error;
        return fail(name, `expected the Parquet world's ${name}: ${(error as Error).message.split('\n')[0]}`);
      }
    };
    const text = new Set(meta.textIds ?? []);
    // Text ids are numbered in order of first appearance in pairs.parquet, as a JSON world's are.
    for (const [role, column] of [
      ['query', 'query'],
      ['document', 'document'],
    ] as const) {
      if (!text.has(role)) continue;
      await tried('pairs.parquet', () =>
        engine.run(`CREATE TEMPORARY TABLE world_${role}_ids AS SELECT text, CAST(row_number() OVER (ORDER BY first) - 1 AS INTEGER) AS id
          FROM (SELECT CAST(${column} AS VARCHAR) AS text, min(file_row_number) AS first FROM ${file('pairs.parquet')} GROUP BY ALL)`),
      );
    }
    // Text ids through their numbering (a join), integer ids as they are.
    const id = (role: 'query' | 'document') => (text.has(role) ? `${role}_ids.id` : `CAST(p.${role} AS INTEGER)`);
    const joins = (['query', 'document'] as const)
      .filter((role) => text.has(role))
      .map((role) => ` JOIN world_${role}_ids ${role}_ids ON ${role}_ids.text = CAST(p.${role} AS VARCHAR)`)
      .join('');
    const perPair = meta.pairParameters.map((name) => `, CAST(p."${name}" AS DOUBLE) AS "${name}"`).join('');
    await tried('pairs.parquet', () =>
      engine.run(
        `CREATE TEMPORARY VIEW world_pairs AS SELECT p.file_row_number AS pair, ${id('query')} AS q, ${id('document')} AS d, CAST(p.attractiveness AS DOUBLE) AS a${perPair} FROM ${file('pairs.parquet')} p${joins}`,
      ),
    );
    const [numPairs] = await tried('pairs.parquet', () => engine.numbers('SELECT count(*) FROM world_pairs'));
    const [numRankings, totalSessions, badSessions] = await tried('ranking-sessions.parquet', () =>
      engine.numbers(`SELECT count(*), coalesce(sum(sessions), 0), count(*) FILTER (WHERE NOT (sessions > 0)) FROM ${file('ranking-sessions.parquet')}`),
    );
    if (numRankings === 0 || badSessions > 0)
      fail('ranking-sessions.parquet', `expected a positive number of sessions for every ranking, and at least one ranking; found ${numRankings} rankings, ${badSessions} without a positive count`);
    // Each ranking's rows together (position = row − its first row), numbered 0 .. R − 1, pairs within the pairs' rows.
    await tried('rankings.parquet', () =>
      engine.run(`CREATE TEMPORARY TABLE world_starts AS SELECT CAST(ranking AS BIGINT) AS ranking, min(file_row_number) AS start, max(file_row_number) - min(file_row_number) + 1 - count(*) AS gaps,
        min(pair) AS lo, max(pair) AS hi FROM ${file('rankings.parquet')} GROUP BY ranking`),
    );
    const [ranked, gaps, lo, hi, below, above] = await engine.numbers(
      `SELECT count(*), count(*) FILTER (WHERE gaps <> 0), coalesce(min(lo), 0), coalesce(max(hi), 0), count(*) FILTER (WHERE ranking < 0), count(*) FILTER (WHERE ranking >= ${numRankings}) FROM world_starts`,
    );
    if (ranked !== numRankings || gaps > 0 || below > 0 || above > 0 || lo < 0 || hi >= numPairs) {
      fail(
        'rankings.parquet',
        `expected the rows of each ranking 0 .. ${numRankings - 1} together, in rank order, with pair indices below ${numPairs}; found ${ranked} rankings, ${gaps} not together, pairs from ${lo} to ${hi}`,
      );
    }
    const slots = `SELECT CAST(r.ranking AS INTEGER) AS ranking, CAST(r.file_row_number - st.start AS INTEGER) AS k, p.*, l.sessions AS w
      FROM ${file('rankings.parquet')} r JOIN world_starts st ON st.ranking = r.ranking JOIN world_pairs p ON p.pair = r.pair
      JOIN (SELECT file_row_number AS ranking, CAST(sessions AS DOUBLE) AS sessions FROM ${file('ranking-sessions.parquet')}) l ON l.ranking = r.ranking`;
    const names = meta.pairParameters;
    const sql = `WITH slots AS (${slots}),
      shown AS (SELECT q, d, k, sum(w) AS n FROM slots GROUP BY q, d, k),
      asked AS (SELECT q, sum(w) AS n FROM slots WHERE k = 0 GROUP BY q)
      SELECT s.ranking, s.k, s.q, s.d, s.w, sh.n / ak.n, s.a${names.map((n) => `, s."${n}"`).join('')}
      FROM slots s JOIN shown sh USING (q, d, k) JOIN asked ak USING (q) ORDER BY s.ranking, s.k`;
    return {
      meta,
      model: meta.model,
      listLength: meta.listLength,
      parameters: meta.parameters,
      totalSessions,
      file: folder,
      batches: () => rankingBatches(engine, sql, names, meta.listLength),
      async writeIdTexts(out) {
        const files: string[] = [];
        for (const [role, suffix] of [
          ['query', 'query-ids.txt'],
          ['document', 'item-ids.txt'],
        ] as const) {
          if (!text.has(role)) continue;
          files.push(await writeLines(engine, `SELECT text FROM world_${role}_ids ORDER BY id`, `${out}.${suffix}`));
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

/** The result rows of the world's SQL (ranking, k, q, d, w, propensity, a, per-pair...) as batches of whole rankings. */
async function* rankingBatches(engine: LogEngine, sql: string, names: readonly string[], L: number): AsyncGenerator<RankingBatch> {
  const { numericColumn } = await import('../data/engine.js');
  const capacity = SLOTS_PER_BATCH + L;
  let b = new BatchBuilder(capacity, names);
  let previous = -1;
  for await (const chunk of engine.chunks(sql)) {
    const n = chunk.rowCount;
    const cols = Array.from({ length: 7 + names.length }, (_, j) => numericColumn(chunk.getColumnVector(j), n));
    const [ranking, k, q, d, w, propensity, a] = cols;
    for (let i = 0; i < n; i++) {
      if (ranking[i] !== previous) {
        if (b.slots >= SLOTS_PER_BATCH) {
          yield b.finish();
          b = new BatchBuilder(capacity, names);
        }
        previous = ranking[i];
        b.startRanking(q[i], w[i]);
      }
      if (k[i] !== b.slots - b.rankingStart()) throw new DataFormatError('rankings.parquet', null, `ranking ${ranking[i]}: expected ranks 0, 1, … in order, found rank ${k[i]}`);
      b.addSlot(d[i], propensity[i], a[i], cols, 7, i);
    }
  }
  if (b.rankings > 0) yield b.finish();
}

/** A ranking batch filled row by row. */
class BatchBuilder {
  rankings = 0;
  slots = 0;
  private readonly sessions: number[] = [];
  private readonly query: number[] = [];
  private readonly offsets: number[] = [0];
  private readonly document: Int32Array;
  private readonly propensity: Float32Array;
  private readonly attractiveness: Float64Array;
  private readonly perPair: Float64Array[];

  constructor(
    capacity: number,
    private readonly names: readonly string[],
  ) {
    this.document = new Int32Array(capacity);
    this.propensity = new Float32Array(capacity);
    this.attractiveness = new Float64Array(capacity);
    this.perPair = names.map(() => new Float64Array(capacity));
  }

  rankingStart(): number {
    return this.offsets[this.rankings - 1];
  }

  startRanking(query: number, sessions: number): void {
    if (this.rankings > 0) this.offsets.push(this.slots);
    this.query.push(query);
    this.sessions.push(sessions);
    this.rankings++;
  }

  addSlot(document: number, propensity: number, attractiveness: number, cols: ArrayLike<number>[], first: number, i: number): void {
    const at = this.slots++;
    this.document[at] = document;
    this.propensity[at] = propensity;
    this.attractiveness[at] = attractiveness;
    for (let j = 0; j < this.perPair.length; j++) this.perPair[j][at] = cols[first + j][i];
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

/** The first column of `sql`'s rows, one a line, to `file` (atomically), streamed. */
async function writeLines(engine: LogEngine, sql: string, file: string): Promise<string> {
  const pending = new PendingFile(file);
  try {
    const stream = createWriteStream(pending.temporary);
    for await (const chunk of engine.chunks(sql)) {
      const vector = chunk.getColumnVector(0);
      const lines: string[] = [];
      for (let i = 0; i < chunk.rowCount; i++) lines.push(String(vector.getItem(i)));
      if (!stream.write(`${lines.join('\n')}\n`)) await once(stream, 'drain');
    }
    stream.end();
    await once(stream, 'close');
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
 * of their (rank, query, document) slots (as the classes are, data/count-classes.ts), numbered in
 * order of their first session, each written from its first session's slots. The folder is written
 * atomically.
 */
export async function writeCountedWorld(engine: LogEngine, folder: string, world: CountedWorld): Promise<{ readonly pairs: number; readonly rankings: number }> {
  const { literal } = await import('../data/engine.js');
  const slots = await engine.slots(world.log, world.logOptions);
  const query = engine.idDictionary('query');
  const item = engine.idDictionary('item');
  let counts = { pairs: 0, rankings: 0 };
  const copy = (sql: string, file: string) => engine.run(`COPY (${sql}) TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`);
  try {
    await writeFolderAtomic(folder, async (temporary) => {
      const alphas = join(temporary, 'classes.parquet');
      await engine.writeParquetColumns(alphas, [{ name: 'attractiveness', type: 'DOUBLE', values: world.classAttractiveness }]);
      await engine.run(`CREATE TEMPORARY TABLE world_pair_ids AS SELECT q, d, class, CAST(row_number() OVER (ORDER BY q, d) - 1 AS INTEGER) AS pair FROM ${world.pairTable}`);
      // Text ids written as their text (VARCHAR), integer ids as they are.
      const text = (role: 'query' | 'item', column: string, table: string | null) =>
        table === null
          ? { select: `p.${column} AS ${role === 'query' ? 'query' : 'document'}`, join: '' }
          : { select: `${role}_text.clicklab_text AS ${role === 'query' ? 'query' : 'document'}`, join: ` JOIN ${table} ${role}_text ON ${role}_text.clicklab_id = p.${column}` };
      const [q, d] = [text('query', 'q', query), text('item', 'd', item)];
      await copy(
        `SELECT ${q.select}, ${d.select}, a.attractiveness FROM world_pair_ids p JOIN (SELECT CAST(file_row_number AS INTEGER) AS class, attractiveness FROM read_parquet(${literal(alphas)}, file_row_number = true)) a ON a.class = p.class${q.join}${d.join} ORDER BY p.pair`,
        join(temporary, 'pairs.parquet'),
      );
      rmSync(alphas);
      await engine.run(`CREATE TEMPORARY TABLE world_sessions AS SELECT f, s, min(q) AS q, count(*) AS n, min(k) AS lo, max(k) AS hi,
        sum(${rankingSlotHash(false)}) AS h1, sum(${rankingSlotHash(true)}) AS h2 FROM (${slots}) GROUP BY f, s`);
      const [gapped] = await engine.numbers('SELECT count(*) FROM world_sessions WHERE lo <> 0 OR hi <> n - 1');
      if (gapped > 0) throw new ConfigError(world.log, `${gapped} sessions have ranks that are not 1, 2, …, n: a world's rankings need whole sessions ranked from 1`);
      await engine.run(`CREATE TEMPORARY TABLE world_rankings AS SELECT CAST(row_number() OVER (ORDER BY first) - 1 AS INTEGER) AS ranking, first.f AS f, first.s AS s, w
        FROM (SELECT min({'f': f, 's': s}) AS first, count(*) AS w FROM world_sessions GROUP BY q, n, h1, h2)`);
      await engine.run('DROP TABLE world_sessions');
      await copy(
        `SELECT r.ranking, p.pair FROM (${slots}) x JOIN world_rankings r ON r.f = x.f AND r.s = x.s JOIN world_pair_ids p ON p.q = x.q AND p.d = x.d ORDER BY r.ranking, x.k`,
        join(temporary, 'rankings.parquet'),
      );
      await copy('SELECT CAST(w AS DOUBLE) AS sessions FROM world_rankings ORDER BY ranking', join(temporary, 'ranking-sessions.parquet'));
      const [pairs] = await engine.numbers('SELECT count(*) FROM world_pair_ids');
      const [rankings] = await engine.numbers('SELECT count(*) FROM world_rankings');
      counts = { pairs, rankings };
      const textIds = [...(query === null ? [] : ['query']), ...(item === null ? [] : ['document'])];
      const meta = { format: PARQUET_WORLD_FORMAT, ...world.meta, ...(textIds.length > 0 ? { textIds } : {}), numPairs: pairs, numRankings: rankings };
      writeFileAtomic(join(temporary, 'world.json'), `${JSON.stringify(meta)}\n`);
    });
  } finally {
    await engine.run('DROP TABLE IF EXISTS world_pair_ids');
    await engine.run('DROP TABLE IF EXISTS world_sessions');
    await engine.run('DROP TABLE IF EXISTS world_rankings');
  }
  return counts;
}
