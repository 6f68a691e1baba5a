/** Quoting for the SQL that clicklab hands DuckDB: values as string literals, names as identifiers. */

/** SQL string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
