import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

/** A yargs `.check`: the named options must be integers ≥ 1 (yargs only checks that they are numbers). */
export function positiveIntegers(argv: Record<string, unknown>, names: string[]): true {
  for (const name of names) {
    const value = argv[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new ConfigError(flag(name), `expected an integer ≥ 1, found ${String(value)}`);
    }
  }
  return true;
}

/** An option that names a model or gives it as a JSON object: `dbn` or `{"type": "dbn", "gamma": 0.8}`. */
export function parseSpec(text: string, option: string): Record<string, unknown> {
  const trimmed = text.trim();
  return trimmed.startsWith('{') ? parseJsonObject(trimmed, option) : { type: trimmed };
}

export function parseJsonObject(text: string, option: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(option, `expected a JSON object, found invalid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(option, `expected a JSON object, found ${text}`);
  return value as Record<string, unknown>;
}

/**
 * A yargs `.check`: each named option that was given must be a finite number above `low`
 * (`≥ low`, or `> low` when `exclusive`); yargs only checks that they are numbers.
 */
export function numbersFrom(argv: Record<string, unknown>, names: string[], low: number, exclusive = false): true {
  for (const name of names) {
    const value = argv[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || (exclusive ? value <= low : value < low)) {
      throw new ConfigError(flag(name), `expected a number ${exclusive ? '>' : '≥'} ${low}, found ${String(value)}`);
    }
  }
  return true;
}

/** The option as the user typed it: yargs' camel-case key `batchSize` is `--batch-size`. */
function flag(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** An output file's folder must exist before long work starts, not fail only when the result is written. */
export function outputFolderExists(file: string, option = '--out'): void {
  const folder = path.dirname(path.resolve(file));
  if (!existsSync(folder)) throw new ConfigError(option, `the folder ${folder} does not exist (create it first)`);
}
