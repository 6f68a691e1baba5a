import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataFormatError } from '../core/errors.js';

/**
 * The Coat shopping data set (Schnabel et al., ICML 2016): 290 users × 300 items, dense
 * whitespace-separated matrices, one line per user and one column per item.
 * - train.ascii: 1–5 ratings of 24 items each user chose (missing not at random), 0 = not rated;
 * - test.ascii: 1–5 ratings of 16 items drawn uniformly at random per user, 0 = not rated;
 * - propensities.ascii: the authors' estimated P(a train rating is observed) per cell, in (0, 1].
 * Files may be gzipped (`<name>.ascii.gz`, as shipped in datasets/coat); plain files win when both exist.
 */
export interface CoatData {
  readonly numUsers: number;
  readonly numItems: number;
  /** User-major ratings, 0 = not rated. */
  readonly train: Uint8Array;
  readonly test: Uint8Array;
  readonly propensity: Float32Array;
}

export const COAT_FILES = ['train.ascii', 'test.ascii', 'propensities.ascii'] as const;

export function loadCoat(folder: string): CoatData {
  const [trainFile, testFile, propensityFile] = COAT_FILES.map((name) => locate(folder, name));
  const train = parseMatrix(trainFile, 'rating');
  const test = parseMatrix(testFile, 'rating', train);
  const propensity = parseMatrix(propensityFile, 'propensity', train);
  return { numUsers: train.rows, numItems: train.columns, train: Uint8Array.from(train.values), test: Uint8Array.from(test.values), propensity: Float32Array.from(propensity.values) };
}

function locate(folder: string, name: string): string {
  const plain = path.join(folder, name);
  if (existsSync(plain)) return plain;
  if (existsSync(`${plain}.gz`)) return `${plain}.gz`;
  throw new DataFormatError(plain, null, `expected the Coat file ${name} (or ${name}.gz) in ${folder}, found neither`);
}

interface Matrix {
  readonly rows: number;
  readonly columns: number;
  readonly values: Float64Array;
}

/**
 * Parses a dense matrix, checking every cell: ratings are integers 0–5, propensities finite numbers
 * in (0, 1]; every line has as many columns as the first (and, given `shape`, the shape of train.ascii).
 */
function parseMatrix(file: string, kind: 'rating' | 'propensity', shape?: Matrix): Matrix {
  let bytes = readFileSync(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DataFormatError(file, null, `expected valid gzip data, found a broken stream (${(error as Error).message})`);
    }
  }
  const lines = bytes.toString('utf8').split('\n');
  if (lines[lines.length - 1].trim() === '') lines.pop();
  const columns = shape?.columns ?? lines[0]?.trim().split(/\s+/).filter(Boolean).length ?? 0;
  if (lines.length === 0 || columns === 0) throw new DataFormatError(file, 1, 'expected a matrix with one line per user, found an empty file');
  if (shape && lines.length !== shape.rows) throw new DataFormatError(file, lines.length, `expected ${shape.rows} lines (one per user, as train.ascii), found ${lines.length}`);
  const values = new Float64Array(lines.length * columns);
  lines.forEach((line, r) => {
    const cells = line.trim().split(/\s+/).filter(Boolean);
    if (cells.length !== columns) throw new DataFormatError(file, r + 1, `expected ${columns} values (one per item), found ${cells.length}`);
    cells.forEach((cell, c) => {
      const v = Number(cell);
      const ok = kind === 'rating' ? Number.isInteger(v) && v >= 0 && v <= 5 && /^\d+$/.test(cell) : Number.isFinite(v) && v > 0 && v <= 1;
      const expected = kind === 'rating' ? 'a rating 1–5 or 0 (not rated)' : 'a propensity in (0, 1]';
      if (!ok) throw new DataFormatError(file, r + 1, `column ${c + 1} (item ${c}): expected ${expected}, found "${cell}"`);
      values[r * columns + c] = v;
    });
  });
  return { rows: lines.length, columns, values };
}
