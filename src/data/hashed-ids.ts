/**
 * Vocabulary indices looked up by a 128-bit hash of a text id (four 32-bit parts), for readers whose
 * engine hashes the ids: no JS string is made per row, only one per distinct id (to add it to an
 * IdVocabulary). Two distinct ids are confused only if both their 64-bit hashes agree (DuckDB's hash
 * of the id and of the id reversed): at a billion distinct ids, a chance of about 10⁻²¹.
 * Open addressing with linear probing, kept at most half full.
 */
export class HashedIds {
  private keys = new Uint32Array(4 << 16);
  private values = new Int32Array(1 << 16).fill(-1);
  private mask = (1 << 16) - 1;
  size = 0;

  /** The index stored for the hash (a, b, c, d), or −1. */
  get(a: number, b: number, c: number, d: number): number {
    const keys = this.keys;
    for (let slot = (b ^ Math.imul(d, 0x9e3779b1)) & this.mask; ; slot = (slot + 1) & this.mask) {
      const value = this.values[slot];
      if (value < 0) return -1;
      const k = 4 * slot;
      if (keys[k] === a && keys[k + 1] === b && keys[k + 2] === c && keys[k + 3] === d) return value;
    }
  }

  /** Stores `value` (≥ 0) for a hash not stored yet. */
  set(a: number, b: number, c: number, d: number, value: number): void {
    if (2 * (this.size + 1) > this.values.length) this.grow();
    this.place(a, b, c, d, value);
    this.size++;
  }

  private place(a: number, b: number, c: number, d: number, value: number): void {
    let slot = (b ^ Math.imul(d, 0x9e3779b1)) & this.mask;
    while (this.values[slot] >= 0) slot = (slot + 1) & this.mask;
    const k = 4 * slot;
    this.keys[k] = a;
    this.keys[k + 1] = b;
    this.keys[k + 2] = c;
    this.keys[k + 3] = d;
    this.values[slot] = value;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Uint32Array(2 * keys.length);
    this.values = new Int32Array(2 * values.length).fill(-1);
    this.mask = this.values.length - 1;
    for (let slot = 0; slot < values.length; slot++) {
      if (values[slot] >= 0) this.place(keys[4 * slot], keys[4 * slot + 1], keys[4 * slot + 2], keys[4 * slot + 3], values[slot]);
    }
  }
}
