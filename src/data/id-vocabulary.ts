import { writeFileAtomic } from '../core/files.js';

/** Dense 0-based indices for text ids, in order of first appearance. */
export class IdVocabulary {
  private readonly index = new Map<string, number>();
  readonly ids: string[] = [];

  /** The index of `id`, adding it when new. */
  encode(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.index.set(id, i);
      this.ids.push(id);
    }
    return i;
  }
}

/**
 * Writes the text of each dense id, one a line (line k: the id of index k), beside a log written with
 * those indices: `OUT.query-ids.txt` and `OUT.item-ids.txt`, for the roles that have text ids.
 * Returns the files written.
 */
export function writeIdTexts(out: string, ids: { readonly query: readonly string[] | null; readonly document: readonly string[] | null } | undefined): string[] {
  const files: string[] = [];
  for (const [texts, suffix] of [
    [ids?.query ?? null, 'query-ids.txt'],
    [ids?.document ?? null, 'item-ids.txt'],
  ] as const) {
    if (texts === null) continue;
    const file = `${out}.${suffix}`;
    writeFileAtomic(file, texts.length === 0 ? '' : `${texts.join('\n')}\n`);
    files.push(file);
  }
  return files;
}
