/**
 * PBM's and UBM's sufficient statistics out of core, compressed into classes of pairs.
 *
 * PBM's E-step treats each slot on its own given its pair and rank (UBM: and the distance to the
 * last click above), so a log reduces to its cells: impressions and clicks per (query, document,
 * rank, distance, session length). The attractiveness of a pair is then re-estimated from that
 * pair's cells and the rank parameters alone: pairs with the same cells (the same counts at the same
 * ranks) have the same α at every EM iteration. In a long-tailed log most pairs are seen a few times,
 * so there are few distinct cell patterns: at 10M sessions, 20.8M pairs fall into 245k classes.
 * EM runs on one representative per class, weighted by the class's size — the same sums, so the
 * same parameters and log-likelihood (to rounding) — and the per-pair parameters are never held.
 *
 * In DuckDB, all spillable GROUP BYs and joins (no list aggregates, which do not spill):
 *   pairs    one row per pair with a 128-bit hash of its cells, computed from the slots in one
 *            GROUP BY (query, document): a pair's cells are the multiset of its slots' (rank,
 *            distance, length, click), hashed as the sum of a nonlinear hash of each (a multiset
 *            hash, two independent 64-bit ones summed in HUGEINT). The chance that two different
 *            cell sets share both is about 2^-128 per pair of classes. Grouping the slots by (query,
 *            document, rank, ...) first would cost a second aggregation as large as the log's pairs;
 *   classes  the pairs grouped by that hash, numbered in order of their first (query, document);
 *   cells    of each class's first pair only (the other slots filtered out by a join to the classes'
 *            first pairs, which gives them their class), a table in class order that EM reads
 *            whole or, beyond memory, streams once per iteration (`StoredClassCounts`).
 * Beyond SLOTS_PER_PASS slots each step runs in passes over parts of the queries (query id mod the
 * parts), each part's classes merged by their hash, so the hash tables hold a part's rows. The first
 * pairs' cells of a PBM log of one session length take one pass whatever its length: no join back to
 * the sessions, a scan and a join to the classes (at 100M sessions 8 passes took ~215 s of PBM's ~630).
 * The session length only enters the log-likelihood (a slot weighs 1 / its session's length): when
 * every session has the same length (one GROUP BY per session, kept as a table, tells) it is a
 * constant and the cells need no join back to the sessions. UBM's distance needs the clicks above
 * each slot: the sessions' click masks (from the same GROUP BY) joined back to the slots, measured
 * faster than a window over the sessions (5M sessions: 31 s against 56 s, docs/scale.md).
 */
import { ClickLabError, ConfigError } from '../core/errors.js';
import { silentProgress } from '../core/progress.js';
import { type EngineLogOptions, type LogEngine, logSourceSql, numericColumn, SLOTS_PER_PASS, ticking } from './engine.js';
import { partOf } from './sql-text.js';

/** Counts per (class, rank, distance, length), ordered by those. */
export interface ClassCountColumns {
  /** The class of the row's pairs (0-based); in held-out counts −1 for pairs not in the training log. */
  readonly pairClass: Int32Array;
  /** 0-based rank. */
  readonly rank: Int32Array;
  /** UBM: rank − (0-based rank of the last click above, −1 if none) − 1; PBM: 0. */
  readonly distance: Int32Array;
  /** Results of the sessions counted in the row. */
  readonly length: Int32Array;
  /** Training classes: one pair's impressions and clicks (each pair of the class has the same); held-out: the sums over its pairs. */
  readonly impressions: Float64Array;
  readonly clicks: Float64Array;
}

/**
 * Count rows kept in a DuckDB table in (class, rank, distance, length) order, read whole (`read`) or
 * one chunk at a time (`batches`, in the same order): at 10⁸ sessions UBM's rows outgrow memory.
 */
export class StoredClassCounts {
  constructor(
    private readonly engine: LogEngine,
    private readonly table: string,
    readonly rows: number,
    /** Sessions counted (impressions at rank 0, times their class's pairs). */
    readonly sessions: number,
    /** The longest session length counted. */
    readonly longest: number,
    /** Training counts: the pairs each class stands for; held-out counts: none (each row sums its pairs). */
    readonly multiplicity: Float64Array | undefined,
    /** Held-out counts: impressions of pairs not in the training log (class −1). */
    readonly unseenImpressions = 0,
  ) {}

  /** Every row, in memory (32 bytes a row: the columns filled batch by batch, never copied). */
  async read(): Promise<ClassCountColumns> {
    const ints = () => new Int32Array(this.rows);
    const all = asCountColumns([ints(), ints(), ints(), ints(), new Float64Array(this.rows), new Float64Array(this.rows)]);
    let at = 0;
    for await (const batch of this.batches()) {
      if (at + batch.rank.length > this.rows) throw new ClickLabError(`the count table ${this.table} holds more than its ${this.rows} rows`);
      for (const key of COUNT_COLUMNS) all[key].set(batch[key], at);
      at += batch.rank.length;
    }
    return all;
  }

  /** The rows as batches of one DuckDB chunk each (about 2,048 rows), in the table's order. */
  async *batches(): AsyncGenerator<ClassCountColumns> {
    for await (const chunk of this.engine.chunks(`SELECT * FROM ${this.table}`)) {
      const m = chunk.rowCount;
      yield asCountColumns(Array.from({ length: 6 }, (_, col) => numericColumn(chunk.getColumnVector(col), m).subarray(0, m)));
    }
  }

  async drop(): Promise<void> {
    await this.engine.run(`DROP TABLE IF EXISTS ${this.table}`);
  }
}

const COUNT_COLUMNS = ['pairClass', 'rank', 'distance', 'length', 'impressions', 'clicks'] as const;

/** Columns (class, k, dist, n, imp, clk) as count columns (INTEGER read as Int32Array, DOUBLE as Float64Array). */
function asCountColumns([pairClass, rank, distance, length, impressions, clicks]: (Int32Array | Float64Array)[]): ClassCountColumns {
  return {
    pairClass: pairClass as Int32Array,
    rank: rank as Int32Array,
    distance: distance as Int32Array,
    length: length as Int32Array,
    impressions: impressions as Float64Array,
    clicks: clicks as Float64Array,
  };
}

export interface PairClassOptions extends EngineLogOptions {
  /** Key the cells by UBM's distance to the last click above (default PBM's: none). */
  readonly distance: boolean;
}

let serial = 0;

/** The top bit of a non-negative BIGINT (−1 for 0), exactly: log2 in double is exact below 2^40, so the top 23 bits go apart. */
function topBit(x: string): string {
  return `(CASE WHEN ${x} = 0 THEN -1 WHEN ${x} < 1099511627776 THEN CAST(floor(log2(${x})) AS INTEGER) ELSE 40 + CAST(floor(log2(${x} >> 40)) AS INTEGER) END)`;
}

/** UBM's masks hold clicks as bits of a BIGINT. */
const MAX_UBM_RANKS = 62;

/**
 * A log or counts table as SQL over its slots or cells, in `parts` parts of whole queries (query id
 * mod parts): a long log is aggregated one part at a time, so that DuckDB's hash tables (the pairs,
 * UBM's sessions joined back to their slots) hold a part's rows and do not spill the whole log's.
 */
interface CountSource {
  readonly parts: number;
  /** Parts of the first pairs' cells: one where the slots need no join back to their sessions (PBM, one session length), a scan with a small join. */
  readonly cellParts: number;
  /** (q, d, h1, h2): each pair of a part with the two halves of its cells' hash. */
  pairs(part: number): string;
  /** (q, d, k, dist, n, imp, clk): the cells of every pair. */
  cells(): string;
  /** (class, k, dist, n, imp, clk): the cells of each class's first pair in a part of `cellParts` (`classes`: the table of `PairClasses`). */
  firstCells(classes: string, part: number): string;
  /** Temporary tables the SQL reads, to drop when done. */
  readonly tables: readonly string[];
}

/** A temporary table of the union of `sqlOf(part)` over the parts, one statement per part. */
async function tableInParts(engine: LogEngine, table: string, parts: number, sqlOf: (part: number) => string): Promise<void> {
  await engine.run(`CREATE TEMPORARY TABLE ${table} AS ${sqlOf(0)}`);
  for (let part = 1; part < parts; part++) await engine.run(`INSERT INTO ${table} ${sqlOf(part)}`);
}

/** One slot's hash (rank, distance, length, click `c`); the second half of the pair hash re-hashes it with a constant. */
function slotHash(c: string, second: boolean): string {
  const first = `hash(xor(hash(xor(hash(CAST(k AS UBIGINT) * 65536 + CAST(dist AS UBIGINT)), CAST(n AS UBIGINT))), CAST(${c} AS UBIGINT)))`;
  return `CAST(${second ? `hash(xor(${first}, CAST(6364136223846793005 AS UBIGINT)))` : first} AS HUGEINT)`;
}

/** A training log reduced to pair classes in DuckDB temporary tables (drop them with `drop`). */
export class PairClasses {
  private constructor(
    private readonly engine: LogEngine,
    private readonly table: string,
    private readonly source: CountSource,
    private readonly options: PairClassOptions,
    /** Distinct pairs of the training log. */
    readonly pairs: number,
    readonly classes: number,
  ) {}

  private hasPairTable = false;

  /** The classes of a log (a file, a folder of partitions or a glob). */
  static async ofLog(engine: LogEngine, input: string, options: PairClassOptions): Promise<PairClasses> {
    return PairClasses.grouped(engine, input, await logSource(engine, input, options), options);
  }

  /**
   * The classes of a counts table another engine wrote from `clicklab fit --emit-sql` (Parquet or CSV;
   * a file, a folder or a glob; columns as data/counts-sql.ts documents). Rows with the same key are
   * summed; PBM sums over the distance too.
   */
  static async ofCountsTable(engine: LogEngine, input: string, options: PairClassOptions): Promise<PairClasses> {
    const dist = options.distance ? 'CAST(distance AS INTEGER)' : '0';
    const source = logSourceSql(input, '--counts');
    const rows = `(SELECT CAST(query AS INTEGER) AS q, CAST(document AS INTEGER) AS d, CAST(position AS INTEGER) - 1 AS k, ${dist} AS dist, CAST(session_length AS INTEGER) AS n, impressions, clicks FROM ${source})`;
    const summed = (from: string, key: string) => `SELECT ${key}, k, dist, n, CAST(sum(impressions) AS BIGINT) AS imp, CAST(sum(clicks) AS BIGINT) AS clk FROM ${from} GROUP BY ${key}, k, dist, n`;
    const cells = () => summed(rows, 'q, d');
    // A cell of imp slots, clk of them clicked, hashes as those slots would: the same classes as from the log.
    const hashOf = (second: boolean) => `sum(clk * ${slotHash('1', second)} + (imp - clk) * ${slotHash('0', second)})`;
    const pairs = `SELECT q, d, ${hashOf(false)} AS h1, ${hashOf(true)} AS h2 FROM (${cells()}) GROUP BY q, d`;
    return PairClasses.grouped(engine, input, { parts: 1, cellParts: 1, pairs: () => pairs, cells, firstCells: (classes) => summed(ofFirsts(rows, classes), 'class'), tables: [] }, options);
  }

  private static async grouped(engine: LogEngine, input: string, source: CountSource, options: PairClassOptions): Promise<PairClasses> {
    const table = `clicklab_classes_${serial++}`;
    const progress = options.progress ?? silentProgress;
    progress.start(`aggregating ${input} into pairs`, 0);
    const stop = ticking(progress);
    try {
      // The pairs themselves are not kept (at 10M sessions 20.8M rows of 40 bytes, most of DuckDB's 1 GB): only their classes,
      // each part's first, then merged (a class's pairs may be in several parts).
      const partial = `${table}_parts`;
      await tableInParts(engine, partial, source.parts, (part) => `SELECT h1, h2, min(${pairKey()}) AS first, count(*) AS w FROM (${source.pairs(part)}) GROUP BY h1, h2`);
      await engine.run(`CREATE TEMPORARY TABLE ${table} AS
        SELECT CAST(row_number() OVER (ORDER BY first) - 1 AS INTEGER) AS class, h1, h2, first, w
        FROM (SELECT h1, h2, min(first) AS first, sum(w) AS w FROM ${partial} GROUP BY h1, h2)`);
      await engine.run(`DROP TABLE ${partial}`);
    } finally {
      stop();
      progress.finish();
    }
    const [pairs, classes] = await engine.numbers(`SELECT CAST(sum(w) AS DOUBLE), CAST(count(*) AS DOUBLE) FROM ${table}`);
    return new PairClasses(engine, table, source, options, pairs ?? 0, classes);
  }

  /** Training counts in memory: one row per cell of each class's first pair, and how many pairs each class stands for. */
  async counts(): Promise<ClassCountColumns & { readonly sessions: number; readonly multiplicity: Float64Array }> {
    const stored = await this.storedCounts();
    return { ...(await readAndDrop(stored)), multiplicity: stored.multiplicity! };
  }

  /** Training counts kept in DuckDB: one row per cell of each class's first pair, and how many pairs each class stands for. */
  async storedCounts(): Promise<StoredClassCounts> {
    const t = this.table;
    // The cells of the classes' first pairs only: the slots of other pairs are filtered out before any grouping.
    const cells = `${t}_cells`;
    await tableInParts(this.engine, `${cells}_parts`, this.source.cellParts, (part) => this.source.firstCells(t, part));
    await this.engine.run(`CREATE TEMPORARY TABLE ${cells} AS SELECT class, k, dist, n, CAST(imp AS DOUBLE) AS imp, CAST(clk AS DOUBLE) AS clk FROM ${cells}_parts ORDER BY class, k, dist, n`);
    await this.engine.run(`DROP TABLE ${cells}_parts`);
    const [multiplicity] = await this.engine.columns(`SELECT CAST(w AS DOUBLE) FROM ${t} ORDER BY class`, ['DOUBLE']);
    const [rows, sessions, longest] = await this.engine.numbers(
      `SELECT count(*), coalesce(sum(CASE WHEN e.k = 0 THEN e.imp * c.w END), 0), coalesce(max(e.n), 0) FROM ${cells} e JOIN ${t} c USING (class)`,
    );
    return new StoredClassCounts(this.engine, cells, rows, sessions, longest, multiplicity as Float64Array);
  }

  /** A held-out log's counts in memory, summed per (training class, rank, distance, length); pairs not in the training log in class −1. */
  async heldOut(input: string, options: EngineLogOptions = {}): Promise<ClassCountColumns & { readonly sessions: number }> {
    return readAndDrop(await this.storedHeldOut(input, options));
  }

  /** A held-out log's counts kept in DuckDB, summed per (training class, rank, distance, length); pairs not in the training log in class −1. */
  async storedHeldOut(input: string, options: EngineLogOptions = {}): Promise<StoredClassCounts> {
    const progress = options.progress ?? this.options.progress ?? silentProgress;
    const test = await logSource(this.engine, input, { ...this.options, ...options });
    const table = `${this.table}_held_out_${serial++}`;
    progress.start(`aggregating ${input} by training class`, 0);
    const stop = ticking(progress);
    try {
      await this.engine.run(
        `CREATE TEMPORARY TABLE ${table} AS SELECT coalesce(c.class, -1) AS cl, e.k, e.dist, e.n, CAST(sum(e.imp) AS DOUBLE) AS imp, CAST(sum(e.clk) AS DOUBLE) AS clk
         FROM (${test.cells()}) e LEFT JOIN ${await this.pairTable()} c USING (q, d)
         GROUP BY cl, e.k, e.dist, e.n ORDER BY cl, e.k, e.dist, e.n`,
      );
      const [rows, sessions, longest, unseen] = await this.engine.numbers(
        `SELECT count(*), coalesce(sum(imp) FILTER (WHERE k = 0), 0), coalesce(max(n), 0), coalesce(sum(imp) FILTER (WHERE cl < 0), 0) FROM ${table}`,
      );
      return new StoredClassCounts(this.engine, table, rows, sessions, longest, undefined, unseen);
    } finally {
      stop();
      progress.finish();
      await dropTables(this.engine, test.tables);
    }
  }

  /** Every training pair with its class, ordered by (query, document): what per-pair outputs (a world, a parameters file) need. */
  async pairList(): Promise<{ readonly query: Int32Array; readonly document: Int32Array; readonly pairClass: Int32Array }> {
    const [query, document, pairClass] = await this.engine.columns(`SELECT q, d, class FROM ${await this.pairTable()} ORDER BY q, d`, ['INTEGER', 'INTEGER', 'INTEGER']);
    return { query: query as Int32Array, document: document as Int32Array, pairClass: pairClass as Int32Array };
  }

  /** Whether every cell below rank 1 has distance 0 (PBM's counts, or a log where every result above every slot was clicked). */
  async distanceAlwaysZero(): Promise<boolean> {
    const [below, nonzero] = await this.engine.numbers(`SELECT count(*) FILTER (WHERE k > 0), count(*) FILTER (WHERE k > 0 AND dist <> 0) FROM (${this.source.cells()})`);
    return below > 0 && nonzero === 0;
  }

  /**
   * The table (q, d, class) of the training pairs, made on first use: the pairs' hashes computed again
   * (one more pass over the training log) and joined to the classes. 12 bytes per pair in DuckDB
   * (spilled beyond its memory limit), for what needs each pair's class: held-out logs, per-pair outputs.
   */
  async pairTable(): Promise<string> {
    const name = `${this.table}_pairs`;
    if (!this.hasPairTable) {
      await tableInParts(this.engine, name, this.source.parts, (part) => `SELECT p.q, p.d, c.class FROM (${this.source.pairs(part)}) p JOIN ${this.table} c USING (h1, h2)`);
      this.hasPairTable = true;
    }
    return name;
  }

  async drop(): Promise<void> {
    await dropTables(this.engine, [this.table, `${this.table}_pairs`, `${this.table}_parts`, `${this.table}_cells`, `${this.table}_cells_parts`, ...this.source.tables]);
  }
}

/** The stored counts read into memory, then dropped from DuckDB. */
async function readAndDrop(stored: StoredClassCounts): Promise<ClassCountColumns & { readonly sessions: number }> {
  try {
    return { ...(await stored.read()), sessions: stored.sessions };
  } finally {
    await stored.drop();
  }
}

/** The rows of `relation` (columns q, d) whose pair is the first of a class of the table `classes`, with that class. */
function ofFirsts(relation: string, classes: string): string {
  return `(SELECT r.*, t.class FROM ${relation} AS r JOIN ${classes} AS t ON ${pairKey('r')} = t.first)`;
}

/** A pair (columns q, d of `table`) as one BIGINT (query and document are 32-bit integers), for the classes' first pairs. */
function pairKey(table?: string): string {
  const at = table === undefined ? '' : `${table}.`;
  return `(CAST(${at}q AS BIGINT) * 4294967296 + ${at}d)`;
}

async function dropTables(engine: LogEngine, tables: readonly string[]): Promise<void> {
  for (const table of tables) await engine.run(`DROP TABLE IF EXISTS ${table}`);
}

/**
 * A log as a count source: its slots with their distance and session length, grouped into pairs or
 * cells. Checks the ranks (UBM's click masks hold 62) and finds whether every session has one length
 * (then a constant: no join back to the sessions for PBM).
 */
async function logSource(engine: LogEngine, input: string, options: PairClassOptions): Promise<CountSource> {
  const slots = await engine.slots(input, options);
  // The lowest and highest rank (a scan of one column), then the sessions (a GROUP BY): their lengths, and for UBM the clicks as
  // bits, kept as a table where the slots are joined back to them (UBM; PBM when the lengths differ). As narrow as it can be:
  // DuckDB holds it while it aggregates the pairs, which spills (at 10M sessions a wider table beside it doubled PBM's time).
  const [low, top, rows] = await engine.numbers(`SELECT min(k), max(k), count(*) FROM (${slots})`);
  if (low < 0) throw new ConfigError('--log', `${input}: a position below 1; expected 1-based positions`);
  if (options.distance && top >= MAX_UBM_RANKS) throw new ConfigError('--log', `${input}: a session shows a result at rank ${top + 1}; UBM's counts take up to ${MAX_UBM_RANKS} ranks`);
  const parts = Math.max(1, Math.ceil(rows / (options.slotsPerPass ?? SLOTS_PER_PASS)));
  // A part's slots and sessions (the sessions' query only where there are parts).
  const inPart = (part: number) => (parts === 1 ? '' : ` WHERE ${partOf('q', parts)} = ${part}`);
  const perSession = `SELECT f, s, CAST(count(*) AS INTEGER) AS n${parts === 1 ? '' : ', min(q) AS q'}${options.distance ? ', sum(CAST(c AS BIGINT) << k) AS mask' : ''} FROM (${slots}) GROUP BY f, s`;
  const sessions = `clicklab_sessions_${serial++}`;
  const tables: string[] = [];
  const keep = async () => {
    await engine.run(`CREATE TEMPORARY TABLE ${sessions} AS ${perSession}`);
    tables.push(sessions);
  };
  if (options.distance) await keep();
  const [lengths] = await engine.columns(`SELECT DISTINCT n FROM ${options.distance ? sessions : `(${perSession})`}`, ['INTEGER']);
  if (lengths.length === 0) throw new ConfigError('--log', `${input}: no sessions (an empty log); expected a log with at least one session`);
  // One length for every session (a top-10 log): PBM takes it as a constant, with no join back to the sessions.
  const single = !options.distance && lengths.length === 1 ? lengths[0] : null;
  if (!options.distance && single === null) await keep();
  // The slots of a part (all of them without `part`), of the classes' first pairs only where `classes` is given: the others
  // filtered out before any join or grouping.
  const from = (classes?: string, part?: number) => {
    const partSlots = part === undefined ? `(${slots})` : `(SELECT * FROM (${slots})${inPart(part)})`;
    return classes === undefined ? partSlots : ofFirsts(partSlots, classes);
  };
  const sessionsOf = (part?: number) => (parts === 1 ? sessions : `(SELECT f, s, n${options.distance ? ', mask' : ''} FROM ${sessions}${part === undefined ? '' : inPart(part)})`);
  // The slots with their distance and length, and the class of their pair where `classes` is given.
  let marked: (classes?: string, part?: number) => string;
  if (options.distance) {
    const above = '(mask & ((CAST(1 AS BIGINT) << k) - 1))';
    marked = (classes, part) => `SELECT ${classes ? 'class, ' : ''}q, d, k, CAST(k - ${topBit(above)} - 1 AS INTEGER) AS dist, n, c
      FROM ${from(classes, part)} JOIN ${sessionsOf(part)} USING (f, s)`;
  } else {
    marked = (classes, part) =>
      single !== null
        ? `SELECT ${classes ? 'class, ' : ''}q, d, k, 0 AS dist, ${single} AS n, c FROM ${from(classes, part)}`
        : `SELECT ${classes ? 'class, ' : ''}q, d, k, 0 AS dist, n, c FROM ${from(classes, part)} JOIN ${sessionsOf(part)} USING (f, s)`;
  }
  return {
    parts,
    cellParts: single === null ? parts : 1,
    pairs: (part) => `SELECT q, d, sum(${slotHash('c', false)}) AS h1, sum(${slotHash('c', true)}) AS h2 FROM (${marked(undefined, part)}) GROUP BY q, d`,
    cells: () => `SELECT q, d, k, dist, n, CAST(count(*) AS BIGINT) AS imp, CAST(sum(c) AS BIGINT) AS clk FROM (${marked()}) GROUP BY q, d, k, dist, n`,
    firstCells: (classes, part) =>
      `SELECT class, k, dist, n, CAST(count(*) AS BIGINT) AS imp, CAST(sum(c) AS BIGINT) AS clk FROM (${marked(classes, single === null ? part : undefined)}) GROUP BY class, k, dist, n`,
    tables,
  };
}
