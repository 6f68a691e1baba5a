/**
 * Text query and document ids in the engine (data/engine.ts): a log whose query or document column
 * is not an integer type (URLs, md5s, query strings) or that is read with `ids: 'text'` gets one
 * dictionary table per column in DuckDB, (text, id), and its slots are joined to it, so that every
 * consumer (slot counts, session groups, batches) sees dense integer ids.
 *
 * A log's new values are numbered in text order after the ids already there (`row_number() OVER
 * (ORDER BY text)`: a sort, so it spills), which makes the ids a function of the log alone: the same
 * log gives the same ids whatever its partitioning or DuckDB's threads. A second log read by the same
 * engine (a held-out test log) extends the first one's dictionary: the training values keep their
 * ids, the unseen ones get ids beyond them. Partitions whose columns differ in type (one all numbers,
 * one text) are unified to VARCHAR by DuckDB (`union_by_name`), so such a log reads as text ids.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ConfigError } from '../core/errors.js';

/** How the engine reads query and document ids: integers only, any text, or text where the column's type is not an integer (default 'integer'). */
export type EngineIds = 'integer' | 'text' | 'auto';

/** The id columns of a log by role, and the dictionary table each one is joined to (undefined: integer ids, cast). */
export interface IdColumns {
  readonly query: string;
  readonly item: string;
  readonly dictionaries?: { readonly query?: string; readonly item?: string };
  /** Columns a CSV source reads as VARCHAR (with `ids: 'text'`). */
  readonly textColumns?: readonly string[];
}

const ROLES = ['query', 'item'] as const;
type Role = (typeof ROLES)[number];

/** DuckDB's integer types: a column of one of these holds integer ids; any other type (VARCHAR, BLOB, ...) text ids under 'auto'. */
const INTEGER_TYPES = /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?)$/;

const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The `FROM` of a log's slots with its dictionaries joined (the log is aliased `clicklab_log`), and
 * the SQL of the query and document id of a slot.
 */
export function idSql(source: string, columns: IdColumns): { readonly from: string; readonly query: string; readonly item: string } {
  let from = `${source} AS clicklab_log`;
  const id = (role: Role): string => {
    const column = `clicklab_log.${identifier(columns[role])}`;
    const table = columns.dictionaries?.[role];
    if (table === undefined) return `CAST(${column} AS INTEGER)`;
    // An inner join drops no row: `TextIds.prepare` put every value of the log in the dictionary.
    from += ` JOIN ${table} AS clicklab_${role}_ids ON clicklab_${role}_ids.clicklab_text = CAST(${column} AS VARCHAR)`;
    return `clicklab_${role}_ids.clicklab_id`;
  };
  return { query: id('query'), item: id('item'), from };
}

/** The first column of `sql`'s rows as strings, in order. */
export async function textColumn(connection: DuckDBConnection, sql: string): Promise<string[]> {
  const result = await connection.stream(sql);
  const out: string[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    for (const v of chunk.getColumnValues(0)) out.push(String(v));
  }
  return out;
}

/** An engine's dictionaries (one per role, temporary tables of its connection) and which logs are in them. */
export class TextIds {
  /** How each role's ids were read so far: a log with integer ids and one with text ids in one run do not mix. */
  private readonly kind: Partial<Record<Role, 'integer' | 'text'>> = {};
  /** `role \0 input` of the logs already in a dictionary. */
  private readonly added = new Set<string>();

  constructor(private readonly connection: DuckDBConnection) {}

  /**
   * The dictionaries `input` (its DuckDB table function `source`) is read through, its values added
   * first; checks its id columns' types (DESCRIBE) against `ids` and against the logs read before.
   */
  async prepare(input: string, source: string, columns: IdColumns, ids: EngineIds = 'integer'): Promise<IdColumns> {
    const described = await this.connection.runAndReadAll(`DESCRIBE SELECT ${identifier(columns.query)}, ${identifier(columns.item)} FROM ${source}`);
    const types = described.getRows().map((row) => String(row[1]));
    const dictionaries: { query?: string; item?: string } = {};
    for (const [i, role] of ROLES.entries()) {
      const column = columns[role];
      const integer = INTEGER_TYPES.test(types[i]);
      if (ids === 'integer') {
        if (!integer) await this.refuseText(input, source, column, types[i]);
        continue;
      }
      // A text log after an integer one would number its ids apart from the first log's: refused.
      const text = ids === 'text' || !integer || this.kind[role] === 'text';
      if (text && this.kind[role] === 'integer') {
        throw new ConfigError(input, `column '${column}' holds text ids (${types[i]}) where the log read before had integer ids: expected the training and test logs to have the same kind of ids`);
      }
      this.kind[role] = text ? 'text' : 'integer';
      if (!text) continue;
      dictionaries[role] = await this.add(role, input, source, column);
    }
    return { ...columns, dictionaries };
  }

  /** The dictionary table (clicklab_text, clicklab_id) of a role read as text, or null. */
  table(role: Role): string | null {
    return this.kind[role] === 'text' ? tableOf(role) : null;
  }

  /** The text of each id by role (index = id), or null for a role read as integers. */
  async texts(): Promise<{ readonly query: string[] | null; readonly item: string[] | null }> {
    const read = async (role: Role): Promise<string[] | null> => {
      if (this.kind[role] !== 'text') return null;
      return textColumn(this.connection, `SELECT clicklab_text FROM ${tableOf(role)} ORDER BY clicklab_id`);
    };
    return { query: await read('query'), item: await read('item') };
  }

  /** Adds the values of `column` of a log not yet in `role`'s dictionary, numbered after the others in text order. */
  private async add(role: Role, input: string, source: string, column: string): Promise<string> {
    const table = tableOf(role);
    const key = `${role}\0${input}`;
    if (this.added.has(key)) return table;
    await this.connection.run(`CREATE TEMPORARY TABLE IF NOT EXISTS ${table} (clicklab_text VARCHAR, clicklab_id INTEGER)`);
    // The log's distinct values not yet numbered (EXCEPT: a hash aggregation, spillable).
    await this.connection.run(`CREATE OR REPLACE TEMPORARY TABLE clicklab_new_ids AS SELECT CAST(${identifier(column)} AS VARCHAR) AS v FROM ${source} EXCEPT SELECT clicklab_text FROM ${table}`);
    try {
      const [fresh, nulls, known] = (await this.connection.runAndReadAll(`SELECT count(*), count(*) FILTER (WHERE v IS NULL), (SELECT count(*) FROM ${table}) FROM clicklab_new_ids`))
        .getRows()[0]
        .map(Number);
      if (nulls > 0) {
        const row = (await this.connection.runAndReadAll(`SELECT filename FROM ${source} WHERE ${identifier(column)} IS NULL LIMIT 1`)).getRows()[0];
        throw new ConfigError(String(row?.[0] ?? input), `column '${column}' has an empty (NULL) id; expected a ${role === 'query' ? 'query' : 'document'} id in every row`);
      }
      if (known + fresh >= 2 ** 31) throw new ConfigError(input, `column '${column}' has more than 2^31 − 1 distinct ids`);
      await this.connection.run(`INSERT INTO ${table} SELECT v, CAST(${known} + row_number() OVER (ORDER BY v) - 1 AS INTEGER) FROM clicklab_new_ids`);
    } finally {
      await this.connection.run('DROP TABLE IF EXISTS clicklab_new_ids');
    }
    this.added.add(key);
    return table;
  }

  /** With integer ids asked for, a column of another type passes only if every value is an integer; else a one-line error naming the file. */
  private async refuseText(input: string, source: string, column: string, type: string): Promise<void> {
    const c = identifier(column);
    const row = (await this.connection.runAndReadAll(`SELECT filename, CAST(${c} AS VARCHAR) FROM ${source} WHERE ${c} IS NULL OR TRY_CAST(${c} AS INTEGER) IS NULL LIMIT 1`)).getRows()[0];
    if (row === undefined) return;
    const found = row[1] === null ? 'an empty (NULL) id' : `'${String(row[1])}'`;
    throw new ConfigError(String(row[0] ?? input), `column '${column}' (${type}) has ${found} among integer ids; expected integer ids in [0, 2^31 − 1] here`);
  }
}

function tableOf(role: Role): string {
  return `clicklab_${role}_dictionary`;
}
