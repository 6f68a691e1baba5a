/** Text for the SQL that clicklab hands DuckDB: values as string literals, names as identifiers, parts of the queries. */

/** SQL string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The part (0 .. parts − 1) of the SQL integer `column` (a query id) among `parts`: its non-negative remainder (ids may be negative). */
export function partOf(column: string, parts: number): string {
  return `((${column} % ${parts} + ${parts}) % ${parts})`;
}
