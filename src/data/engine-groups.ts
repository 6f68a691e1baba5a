/**
 * The cascade family's sufficient statistics kept in DuckDB: the distinct (query, ranking, click
 * pattern) groups of a training log (and of a test log) as a table with one row per group — its
 * length, click mask, session count and the parameter index of each slot's pair — read back in
 * batches of groups once per EM iteration (fitting/streamed-groups.ts), so that what JavaScript holds
 * is one batch and the parameters, never the groups. The table spills to DuckDB's temporary folder
 * beyond its memory limit.
 *
 * Each slot's (query, document) pair becomes a dense parameter index: exact (one per distinct pair
 * of both logs, training pairs first) while the pairs number at most `maxPairParameters`; beyond it,
 * the pair's bucket among `maxPairParameters` (pair-hash.ts), the pairs of a bucket sharing its
 * parameters (one index per bucket in use, `bucketList` naming each one's bucket); or, to score PBM
 * and UBM fitted on classes of pairs, the pair's class (`PairClassIndex`).
 */
import { ClickLabError } from '../core/errors.js';
import { silentProgress } from '../core/progress.js';
import { type EngineLogOptions, type LogEngine, numericColumn, ticking } from './engine.js';
import { withPairBucket } from './pair-hash.js';

/** How the pairs became parameter indices. */
export interface PairIndexing {
  /** Distinct (query, document) pairs of the logs (training and test). */
  readonly pairs: number;
  /** Distinct pairs of the training log. */
  readonly trainPairs: number;
  /** Parameter indices: `pairs` (exact) or the buckets in use (hashed). */
  readonly parameters: number;
  readonly hashed: boolean;
  /** Hashed: the buckets hashed into (`maxPairParameters`); 0 when exact. */
  readonly buckets: number;
  /** Indexed by the pairs' classes (`PairClassIndex`), not per pair. */
  readonly byClass: boolean;
}

/**
 * Pairs indexed by a class each (PBM's and UBM's classes of pairs with equal counts, data/count-classes.ts):
 * a table (q, d, class) of the training pairs; a pair not in it gets index `unseen` (the classes' number).
 */
export interface PairClassIndex {
  readonly table: string;
  readonly unseen: number;
}

/** One batch of groups: a weighted log over parameter indices, one session per group, ranks 0 .. n − 1. */
export interface GroupBatch {
  readonly groups: number;
  /** Length groups + 1. */
  readonly offsets: Int32Array;
  /** The parameter index of each slot's pair. */
  readonly pair: Int32Array;
  readonly click: Uint8Array;
  /** Sessions per group. */
  readonly weight: Float64Array;
}

interface StoredLog {
  readonly table: string;
  readonly groups: number;
  readonly sessions: number;
}

let serial = 0;

/** Training (and test) groups in DuckDB tables with their pairs' parameter indices (`drop` them when done). */
export class StoredGroups {
  private constructor(
    private readonly engine: LogEngine,
    readonly train: StoredLog,
    readonly test: StoredLog | null,
    /** The longest group (ranks). */
    readonly longest: number,
    readonly indexing: PairIndexing,
    /** Test slots (times their groups' sessions) whose pair is not in the training log. */
    readonly unseenTestSlots: number,
    /** (q, d, p) per pair; hashed: (bucket, p) per bucket in use. */
    private readonly indexTable: string,
  ) {}

  /**
   * Groups `train` (and `test`) in DuckDB and indexes their pairs, exactly while the distinct pairs
   * number at most `maxPairParameters`, else hashed into that many buckets.
   */
  static async ofLogs(
    engine: LogEngine,
    train: string,
    test: string | undefined,
    options: EngineLogOptions & { readonly maxPairParameters: number; readonly pairClasses?: PairClassIndex },
  ): Promise<StoredGroups> {
    const id = serial++;
    const temporary: string[] = [];
    const table = (name: string) => {
      const t = `clicklab_${name}_${id}`;
      temporary.push(t);
      return t;
    };
    const progress = options.progress ?? silentProgress;
    let stopTicking = () => {};
    try {
      const logs = [{ input: train, name: 'train' }, ...(test === undefined ? [] : [{ input: test, name: 'test' }])];
      // Each log's groups (g, q, n, mask, w, rf, rs) and their representative sessions' slots (g, q, d, k, n, mask, w).
      const grouped: { groups: string; slots: string; input: string; name: string }[] = [];
      for (const { input, name } of logs) {
        const groups = table(`${name}_groups`);
        const slots = table(`${name}_slots`);
        progress.start(`grouping sessions of ${input}`, 0);
        const stop = ticking(progress);
        try {
          const logSlots = await engine.slots(input, options);
          await engine.groupSessions(logSlots, groups, options.slotsPerPass);
          const bad = await engine.rows(`SELECT q FROM ${groups} WHERE mask < 0 LIMIT 1`);
          if (bad.length > 0)
            throw new ClickLabError(`${input}: a session of query ${bad[0][0]} has ranks that are not 1, 2, …, n in order, or more than 53 results; expected whole sessions ranked from 1`);
          await engine.run(`CREATE TEMPORARY TABLE ${slots} AS SELECT t.g, t.q, e.d, e.k, t.n, t.mask, t.w FROM (${logSlots}) e JOIN ${groups} t ON e.f = t.rf AND e.s = t.rs`);
        } finally {
          stop();
          progress.finish();
        }
        grouped.push({ groups, slots, input, name });
      }
      progress.start('numbering the pairs and writing one row per group', 0);
      stopTicking = ticking(progress);
      // Every distinct pair with the first log it is in (0: training, 1: test only), in one GROUP BY.
      const distinct = table('distinct_pairs');
      await engine.run(
        `CREATE TEMPORARY TABLE ${distinct} AS SELECT q, d, min(src) AS src FROM (${grouped.map((g, i) => `SELECT q, d, ${i} AS src FROM ${g.slots}`).join(' UNION ALL ')}) GROUP BY q, d`,
      );
      const [pairs, trainPairs] = await engine.numbers(`SELECT count(*), count(*) FILTER (WHERE src = 0) FROM ${distinct}`);
      const classes = options.pairClasses;
      const hashed = classes === undefined && pairs > options.maxPairParameters;
      // (q, d) → parameter index p. Exact: the pairs numbered by (log, query, document), training pairs
      // first (the test log's unseen ones are never fitted: they keep 0.5). Hashed: each pair's bucket,
      // the used buckets numbered by their first pair in that order, so that EM, which reads the groups
      // by query, walks the parameters nearly in order (random bucket numbers measured 3.3× slower at 10M sessions);
      // the table then holds (bucket, p), a row per bucket in use, and each slot's bucket is computed where it is
      // joined (a (q, d, p) table of every pair, 189M rows at 10⁸ sessions, and its join spilled past 60 GB).
      const indexTable = table('pairs');
      const order = 'CAST(src AS BIGINT) * 4611686018427387904 + CAST(q AS BIGINT) * 2147483648 + CAST(d AS BIGINT)';
      await engine.run(
        classes !== undefined
          ? `CREATE TEMPORARY TABLE ${indexTable} AS SELECT x.q, x.d, CAST(coalesce(c.class, ${classes.unseen}) AS INTEGER) AS p FROM ${distinct} x LEFT JOIN ${classes.table} c ON x.q = c.q AND x.d = c.d`
          : hashed
            ? `CREATE TEMPORARY TABLE ${indexTable} AS SELECT bucket, CAST(row_number() OVER (ORDER BY first) - 1 AS INTEGER) AS p
               FROM (SELECT bucket, min(${order}) AS first FROM ${withPairBucket(distinct, options.maxPairParameters)} GROUP BY bucket)`
            : `CREATE TEMPORARY TABLE ${indexTable} AS SELECT q, d, CAST(row_number() OVER (ORDER BY ${order}) - 1 AS INTEGER) AS p FROM ${distinct}`,
      );
      const [parameters] = await engine.numbers(`SELECT max(p) + 1 FROM ${indexTable}`);
      const [longest] = await engine.numbers(`SELECT max(n) FROM (${grouped.map((g) => `SELECT max(n) AS n FROM ${g.groups}`).join(' UNION ALL ')})`);
      const unseenTestSlots =
        grouped.length === 1 ? 0 : (await engine.numbers(`SELECT coalesce(sum(s.w), 0) FROM ${grouped[1].slots} s JOIN ${distinct} p ON s.q = p.q AND s.d = p.d WHERE p.src = 1`))[0];
      await engine.run(`DROP TABLE ${distinct}`);
      const stored: StoredLog[] = [];
      for (const g of grouped) {
        const wide = table(`${g.name}_wide`);
        const indexed = hashed
          ? `(SELECT s.g, s.k, s.n, s.mask, s.w, b.p FROM ${withPairBucket(g.slots, options.maxPairParameters)} s JOIN ${indexTable} b ON s.bucket = b.bucket)`
          : `(SELECT s.g, s.k, s.n, s.mask, s.w, p.p FROM ${g.slots} s JOIN ${indexTable} p ON s.q = p.q AND s.d = p.d)`;
        const columns = Array.from({ length: longest }, (_, k) => `coalesce(max(CASE WHEN s.k = ${k} THEN s.p END), -1) AS p${k}`).join(', ');
        // A row per group in group order; `whole`: the ranks 0 .. n − 1 each hold one result (n slots whose ranks, each below 53, set n distinct bits).
        await engine.run(
          `CREATE TEMPORARY TABLE ${wide} AS SELECT s.g, any_value(s.n) AS n, any_value(s.mask) AS mask, any_value(s.w) AS w,
            bit_or(CAST(1 AS BIGINT) << s.k) = (CAST(1 AS BIGINT) << any_value(s.n)) - 1 AS whole, ${columns}
            FROM ${indexed} s GROUP BY s.g ORDER BY s.g`,
        );
        const broken = await engine.rows(`SELECT g FROM ${wide} WHERE NOT whole LIMIT 1`);
        if (broken.length > 0) {
          const [q] = (await engine.rows(`SELECT q FROM ${g.groups} WHERE g = ${Number(broken[0][0])}`))[0];
          throw new ClickLabError(`${g.input}: a session of query ${q} shows two results at one rank; expected whole sessions ranked 1, 2, …, n`);
        }
        await engine.run(`DROP TABLE ${g.slots}`);
        const [groups, sessions] = await engine.numbers(`SELECT count(*), coalesce(sum(w), 0) FROM ${wide}`);
        stored.push({ table: wide, groups, sessions });
      }
      stopTicking();
      progress.finish();
      // Only the wide tables (and the pair numbering) are kept.
      const kept = new Set([indexTable, ...stored.map((s) => s.table)]);
      for (const t of temporary) if (!kept.has(t)) await engine.run(`DROP TABLE IF EXISTS ${t}`);
      const indexing = {
        pairs,
        trainPairs,
        parameters: classes === undefined ? parameters : classes.unseen + 1,
        hashed,
        buckets: hashed ? options.maxPairParameters : 0,
        byClass: classes !== undefined,
      };
      return new StoredGroups(engine, stored[0], stored[1] ?? null, longest, indexing, unseenTestSlots, indexTable);
    } catch (error) {
      stopTicking();
      for (const t of temporary) await engine.run(`DROP TABLE IF EXISTS ${t}`);
      throw error;
    }
  }

  /** The groups of one log as batches (one per DuckDB chunk, about 2,048 groups), in group order. */
  async *batches(log: StoredLog): AsyncGenerator<GroupBatch> {
    const ranks = Array.from({ length: this.longest }, (_, k) => `p${k}`).join(', ');
    const pair = new Int32Array(2048 * this.longest);
    const click = new Uint8Array(2048 * this.longest);
    for await (const chunk of this.engine.chunks(`SELECT n, mask, w, ${ranks} FROM ${log.table}`)) {
      const m = chunk.rowCount;
      const [n, mask, w] = [0, 1, 2].map((col) => numericColumn(chunk.getColumnVector(col), m));
      const slots = Array.from({ length: this.longest }, (_, k) => numericColumn(chunk.getColumnVector(3 + k), m));
      const offsets = new Int32Array(m + 1);
      const pairs = pair.length >= m * this.longest ? pair : new Int32Array(m * this.longest);
      const clicks = click.length >= m * this.longest ? click : new Uint8Array(m * this.longest);
      let at = 0;
      for (let g = 0; g < m; g++) {
        let bits = mask[g];
        for (let k = 0; k < n[g]; k++) {
          pairs[at] = slots[k][g];
          // Bit k of a mask below 2^53, exact in doubles.
          const bit = bits % 2;
          clicks[at++] = bit;
          bits = (bits - bit) / 2;
        }
        offsets[g + 1] = at;
      }
      yield { groups: m, offsets, pair: pairs, click: clicks, weight: Float64Array.from(w.subarray(0, m)) };
    }
  }

  /** Query and document of each parameter index (exact indexing only). */
  async pairList(): Promise<{ readonly query: Int32Array; readonly document: Int32Array }> {
    if (this.indexing.hashed || this.indexing.byClass) throw new ClickLabError(`the pairs were ${this.indexing.hashed ? 'hashed into buckets' : 'indexed by class'}: there is no per-pair list`);
    const [query, document] = await this.engine.columns(`SELECT q, d FROM ${this.indexTable} ORDER BY p`, ['INTEGER', 'INTEGER']);
    return { query: query as Int32Array, document: document as Int32Array };
  }

  /** The bucket (data/pair-hash.ts) of each parameter index (hashed indexing only). */
  async bucketList(): Promise<Int32Array> {
    if (!this.indexing.hashed) throw new ClickLabError('the pairs were not hashed: there are no buckets');
    return (await this.engine.columns(`SELECT bucket FROM ${this.indexTable} ORDER BY p`, ['INTEGER']))[0] as Int32Array;
  }

  async drop(): Promise<void> {
    for (const t of [this.train.table, this.test?.table, this.indexTable]) if (t !== undefined) await this.engine.run(`DROP TABLE IF EXISTS ${t}`);
  }
}
