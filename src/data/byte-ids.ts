/**
 * Vocabulary indices looked up by the bytes of a text id where it lies in a read buffer, so that a
 * reader makes no JS string per row, only one per distinct id (to add it to an IdVocabulary): a
 * string and a Map lookup per displayed document cost more than the rest of the raw Baidu-ULTR
 * reader (measured, docs/baidu-ultr.md). Exact: the keys' bytes are kept and compared.
 * Open addressing with linear probing on a 32-bit FNV-1a hash, kept at most half full.
 */
export class ByteIds {
  private arena = new Uint8Array(1 << 20);
  private used = 0;
  private start = new Int32Array(1 << 16);
  private length = new Int32Array(1 << 16);
  private values = new Int32Array(1 << 16).fill(-1);
  private mask = (1 << 16) - 1;
  size = 0;

  /** The index stored for the bytes [from, to) of `bytes`, or −1. */
  get(bytes: Uint8Array, from: number, to: number): number {
    const n = to - from;
    const arena = this.arena;
    for (let slot = hash(bytes, from, to) & this.mask; ; slot = (slot + 1) & this.mask) {
      const value = this.values[slot];
      if (value < 0) return -1;
      if (this.length[slot] !== n) continue;
      const at = this.start[slot];
      let k = 0;
      while (k < n && arena[at + k] === bytes[from + k]) k++;
      if (k === n) return value;
    }
  }

  /** Stores `value` (≥ 0) for bytes not stored yet. */
  set(bytes: Uint8Array, from: number, to: number, value: number): void {
    if (2 * (this.size + 1) > this.values.length) this.grow();
    const n = to - from;
    if (this.used + n > this.arena.length) {
      const arena = new Uint8Array(Math.max(2 * this.arena.length, this.used + n));
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
    this.arena.set(bytes.subarray(from, to), this.used);
    this.place(hash(bytes, from, to), this.used, n, value);
    this.used += n;
    this.size++;
  }

  private place(h: number, start: number, length: number, value: number): void {
    let slot = h & this.mask;
    while (this.values[slot] >= 0) slot = (slot + 1) & this.mask;
    this.start[slot] = start;
    this.length[slot] = length;
    this.values[slot] = value;
  }

  private grow(): void {
    const { start, length, values } = this;
    this.start = new Int32Array(2 * values.length);
    this.length = new Int32Array(2 * values.length);
    this.values = new Int32Array(2 * values.length).fill(-1);
    this.mask = this.values.length - 1;
    for (let slot = 0; slot < values.length; slot++) {
      if (values[slot] >= 0) this.place(hash(this.arena, start[slot], start[slot] + length[slot]), start[slot], length[slot], values[slot]);
    }
  }
}

/** 32-bit FNV-1a of bytes [from, to). */
function hash(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
