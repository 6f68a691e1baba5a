import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { nearest } from './suggest.js';

/** Validators shared by the scenario parsers: each names the field path, what it expected and what it found. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function describe(value: Json | undefined): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

export function object(value: Json, path: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(path, `expected an object, found ${describe(value)}`);
  return value;
}

export function array(value: Json, path: string): Json[] {
  if (!Array.isArray(value)) throw new ConfigError(path, `expected an array, found ${describe(value)}`);
  return value;
}

export function string(value: Json | undefined, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(path, `expected a non-empty string, found ${describe(value)}`);
  return value;
}

export function number(value: Json | undefined, path: string, fallback: number | undefined, min = -Infinity, max = Infinity, exclusiveMin = false): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (exclusiveMin && value === min)) {
    const range = `${exclusiveMin ? '>' : '≥'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}`;
    throw new ConfigError(path, `expected a number ${range}, found ${describe(value)}`);
  }
  return value;
}

export function integer(value: Json | undefined, path: string, fallback: number | undefined, min = -Infinity, max = Infinity): number {
  if (value === undefined && fallback !== undefined) return fallback;
  // Past 2^53 a double no longer holds every integer (1e308 is "an integer"): no count is that large.
  const limit = Math.min(max, Number.MAX_SAFE_INTEGER);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > limit) {
    const bound = max < Infinity ? ` and ≤ ${max}` : typeof value === 'number' && value > limit ? ' and ≤ 2^53 − 1 (no count is larger)' : '';
    throw new ConfigError(path, `expected an integer ≥ ${min}${bound}, found ${describe(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(value: Json | undefined, allowed: readonly T[], path: string, fallback: T | undefined): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === 'string' ? nearest(value, allowed) : null;
  throw new ConfigError(path, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}, found ${describe(value)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
}

export function checkKeys(value: JsonObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const hint = nearest(key, allowed);
      throw new ConfigError(`${path}.${key}`, `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${allowed.join(', ')}`);
    }
  }
}

/** The JSON in `file`; a missing file or invalid JSON is a ConfigError naming the file (`what` says what it should hold). */
export function readJsonFile(file: string, what: string): Json {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (error) {
    throw new ConfigError(file, `cannot read the ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The most rows an in-memory log can hold: its offsets and indices are 32-bit integers (and typed arrays are indexed below 2^31). */
export const MAX_LOG_ROWS = 2 ** 31 - 1;

/**
 * Refuses, before any work, a size whose log would not fit in memory: `count` units (sessions,
 * rounds, slates) of `perUnit` rows each must stay within MAX_LOG_ROWS. Returns `count`.
 */
export function fitsInMemory(count: number, perUnit: number, path: string, unit: string): number {
  if (count * perUnit > MAX_LOG_ROWS) {
    throw new ConfigError(
      path,
      `${count} ${unit} × ${perUnit} rows each = ${count * perUnit} rows, more than an in-memory log can hold (2^31 − 1 = ${MAX_LOG_ROWS}: its offsets are 32-bit integers); expected at most ${Math.floor(MAX_LOG_ROWS / perUnit)} ${unit}`,
    );
  }
  return count;
}
