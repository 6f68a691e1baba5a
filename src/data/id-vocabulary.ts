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
