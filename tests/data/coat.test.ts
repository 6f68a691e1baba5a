import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { loadCoat } from '../../src/data/coat.js';

const shipped = fileURLToPath(new URL('../../datasets/coat', import.meta.url));

describe('Coat loader', () => {
  it('reads the shipped (gzipped) files: the counts of its PROVENANCE', () => {
    const coat = loadCoat(shipped);
    expect([coat.numUsers, coat.numItems]).toEqual([290, 300]);
    const histogram = (ratings: Uint8Array) => [1, 2, 3, 4, 5].map((r) => ratings.filter((v) => v === r).length);
    expect(histogram(coat.train)).toEqual([1901, 1437, 1717, 1275, 630]);
    expect(histogram(coat.test)).toEqual([1879, 899, 1002, 641, 219]);
    for (let u = 0; u < 290; u++) {
      const row = (m: Uint8Array) => m.subarray(u * 300, (u + 1) * 300).filter((v) => v > 0).length;
      expect([row(coat.train), row(coat.test)]).toEqual([24, 16]);
    }
    let min = Infinity;
    let max = 0;
    for (const p of coat.propensity) [min, max] = [Math.min(min, p), Math.max(max, p)];
    expect(min).toBeCloseTo(0.00253, 5);
    expect(max).toBeCloseTo(0.69, 2);
  });

  describe('rejects malformed files, naming the file and line', () => {
    const good = { train: '0 1 5\n2 0 0\n', test: '3 0 0\n0 0 4\n', propensities: '0.1 0.2 0.3\n0.4 0.5 1\n' };
    function load(files: Partial<typeof good>): () => unknown {
      const folder = mkdtempSync(path.join(tmpdir(), 'coat-'));
      const all = { ...good, ...files };
      for (const [name, text] of Object.entries(all)) writeFileSync(path.join(folder, `${name}.ascii`), text);
      return () => {
        try {
          return loadCoat(folder);
        } finally {
          rmSync(folder, { recursive: true, force: true });
        }
      };
    }

    it('accepts a small well-formed set', () => {
      const coat = load({})() as ReturnType<typeof loadCoat>;
      expect([coat.numUsers, coat.numItems]).toEqual([2, 3]);
      expect(Array.from(coat.test)).toEqual([3, 0, 0, 0, 0, 4]);
    });
    it('a short row', () => expect(load({ train: '0 1 5\n2 0\n' })).toThrow(/train\.ascii:2: expected 3 values \(one per item\), found 2/));
    it('a rating out of range', () => expect(load({ test: '3 0 0\n0 0 7\n' })).toThrow(/test\.ascii:2: column 3 \(item 2\): expected a rating 1–5 or 0/));
    it('a non-integer rating', () => expect(load({ train: '0 1.5 5\n2 0 0\n' })).toThrow(/train\.ascii:1: column 2/));
    it('a zero propensity', () => expect(load({ propensities: '0.1 0 0.3\n0.4 0.5 1\n' })).toThrow(/propensities\.ascii:1: column 2 \(item 1\): expected a propensity in \(0, 1\]/));
    it('a test file with a missing user', () => expect(load({ test: '3 0 0\n' })).toThrow(DataFormatError));
    it('a missing file', () => {
      const folder = mkdtempSync(path.join(tmpdir(), 'coat-'));
      try {
        expect(() => loadCoat(folder)).toThrow(/train\.ascii.*expected the Coat file/);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
});
