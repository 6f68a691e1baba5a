/**
 * The aggregation behind `clicklab fit --engine duckdb` as portable SQL, for engines other than the
 * embedded one (Spark SQL, Trino, BigQuery): `clicklab fit --emit-sql` prints it, the engine writes
 * the counts table, `clicklab fit --counts` fits from that table.
 *
 * The counts table (Parquet or CSV with a header), one row per distinct key:
 *   query, document   integer ids
 *   position          1-based rank
 *   distance          UBM: position − (position of the last click above, 0 if none) − 1; PBM: 0
 *   session_length    results of the sessions counted in the row
 *   impressions       slots counted
 *   clicks            clicks among them
 * Rows with the same key (e.g. from several output partitions) are summed when read.
 *
 * The query itself (`portableCountsQuery`) is standard SQL: CAST, CASE, COALESCE, COUNT/SUM/MAX and
 * window functions (OVER (PARTITION BY … ORDER BY … ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
 * which Spark SQL, Trino, BigQuery and DuckDB run unchanged. Only two things are engine-specific and
 * live in the statements around it: the name of the file a row came from (sessions are told apart
 * by file and session id, since partitions may each number their sessions from 0) and where the
 * counts are written.
 */
import type { ClickLogColumnMapping } from './click-log-table.js';

export const SQL_DIALECTS = ['spark', 'duckdb'] as const;
export type SqlDialect = (typeof SQL_DIALECTS)[number];

/** The columns of a counts table, in order. */
export const COUNT_TABLE_COLUMNS = ['query', 'document', 'position', 'distance', 'session_length', 'impressions', 'clicks'] as const;

export interface LogRoles {
  readonly session: string;
  readonly query: string;
  readonly item: string;
  readonly position: string;
  readonly click: string;
}

export function logRoles(columns: ClickLogColumnMapping | undefined): LogRoles {
  const c = columns ?? {};
  return { session: c.session ?? 'session', query: c.query ?? 'query', item: c.item ?? 'item_id', position: c.position ?? 'position', click: c.click ?? 'click' };
}

/**
 * The portable query over a relation `clicklab_log(log_file, session, query, document, position, click)`
 * (position 1-based, click 0/1 or a count), giving the counts table's columns.
 */
export function portableCountsQuery(model: 'pbm' | 'ubm'): string {
  const ubm = model === 'ubm';
  return [
    'WITH slots AS (',
    '  SELECT log_file, session, CAST(query AS INTEGER) AS query, CAST(document AS INTEGER) AS document,',
    '    CAST(position AS INTEGER) AS position, CASE WHEN click > 0 THEN 1 ELSE 0 END AS click',
    '  FROM clicklab_log',
    '),',
    'marked AS (',
    '  SELECT query, document, position, click,',
    '    COUNT(*) OVER (PARTITION BY log_file, session) AS session_length,',
    ubm
      ? '    COALESCE(MAX(CASE WHEN click = 1 THEN position END) OVER (PARTITION BY log_file, session ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS last_click'
      : '    position - 1 AS last_click',
    '  FROM slots',
    ')',
    'SELECT query, document, position, position - last_click - 1 AS distance, session_length,',
    '  COUNT(*) AS impressions, SUM(click) AS clicks',
    'FROM marked',
    'GROUP BY query, document, position, position - last_click - 1, session_length',
  ].join('\n');
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function sparkName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

function sqlName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export interface EmitSqlOptions {
  readonly model: 'pbm' | 'ubm';
  readonly dialect: SqlDialect;
  /** The log as the engine names it (Spark: a path, folder or glob; DuckDB: see `duckdbSource`). */
  readonly log: string;
  readonly columns?: ClickLogColumnMapping;
  /** Where the engine writes the counts (a folder for Spark, a Parquet file for DuckDB); none: the SELECT alone. */
  readonly out?: string;
  /** DuckDB: the table expression that reads the log with a `filename` column (the engine's `logSourceSql`). */
  readonly duckdbSource?: string;
  /** Spark: the log's format (default Parquet). */
  readonly format?: 'parquet' | 'csv';
}

/** The whole script: a view `clicklab_log` over the log, then the portable query writing the counts table. */
export function emitCountsSql(options: EmitSqlOptions): string {
  const r = logRoles(options.columns);
  const query = portableCountsQuery(options.model);
  const lines = [
    `-- clicklab: ${options.model.toUpperCase()} counts of ${options.log} (clicklab fit --emit-sql --sql-dialect ${options.dialect})`,
    `-- Counts table columns: ${COUNT_TABLE_COLUMNS.join(', ')}; fit with: clicklab fit --model ${options.model} --counts ${options.out ?? 'COUNTS'} --out MODEL.json`,
    '-- The query after the view is portable SQL (Spark SQL, Trino, BigQuery, DuckDB); only the view (the name of',
    '-- the file each row came from) and the output statement are engine-specific:',
    '--   Spark SQL: input_file_name()   Trino (Hive connector): "$path"   BigQuery (external table): _FILE_NAME   DuckDB: filename',
  ];
  if (options.dialect === 'spark') {
    const name = sparkName;
    const format = options.format ?? 'parquet';
    lines.push(
      `CREATE OR REPLACE TEMPORARY VIEW clicklab_source USING ${format} OPTIONS (path ${quote(options.log)}, recursiveFileLookup 'true'${format === 'csv' ? ", header 'true', comment '#'" : ''});`,
      `CREATE OR REPLACE TEMPORARY VIEW clicklab_log AS SELECT input_file_name() AS log_file, ${name(r.session)} AS session, ${name(r.query)} AS query, ${name(r.item)} AS document, ${name(r.position)} AS position, ${name(r.click)} AS click FROM clicklab_source;`,
      options.out === undefined ? `${query};` : `INSERT OVERWRITE DIRECTORY ${quote(options.out)} USING parquet\n${query};`,
    );
  } else {
    if (options.duckdbSource === undefined) throw new Error('emitCountsSql: the DuckDB dialect needs duckdbSource');
    const name = sqlName;
    lines.push(
      `CREATE OR REPLACE TEMPORARY VIEW clicklab_log AS SELECT filename AS log_file, ${name(r.session)} AS session, ${name(r.query)} AS query, ${name(r.item)} AS document, ${name(r.position)} AS position, ${name(r.click)} AS click FROM ${options.duckdbSource};`,
      options.out === undefined ? `${query};` : `COPY (\n${query}\n) TO ${quote(options.out)} (FORMAT parquet);`,
    );
  }
  return `${lines.join('\n')}\n`;
}
