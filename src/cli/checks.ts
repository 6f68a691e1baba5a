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

/**
 * Runs library work whose errors name its fields (`sampleSizes: …`) and renames those fields to
 * the flags the user typed (`--sizes: …`): `flags` maps a field to its flag. A path such as
 * `policies[0].type` or `ipw: lambda` keeps the rest of its path after the flag.
 */
export async function namingFlags<T>(flags: Record<string, string>, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asFlagError(error, flags);
  }
}

/** `error` with its field renamed to the flag (see `namingFlags`), or `error` as it is. */
export function asFlagError(error: unknown, flags: Record<string, string>): unknown {
  if (!(error instanceof ConfigError)) return error;
  if (Object.hasOwn(flags, error.path)) return new ConfigError(flags[error.path], error.problem);
  const match = /^(?:(.*): )?([A-Za-z]+)(.*)$/.exec(error.path);
  const flagName = match && Object.hasOwn(flags, match[2]) ? flags[match[2]] : undefined;
  if (!match || flagName === undefined) return error;
  const [, owner, , rest] = match;
  return new ConfigError(flagName, [owner, rest.replace(/^\./, ''), error.problem].filter((part) => part).join(': '));
}
