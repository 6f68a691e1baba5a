import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
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

/** An input a command reads, by the flag that names it (undefined or a keyword such as `coat`: nothing to guard). */
export type GuardedInput = readonly [flag: string, file: string | undefined];

export interface OutputGuard {
  /** The flag that names the output (default `--out`). */
  readonly option?: string;
  /** `file`: the output is one file; `folder`: a folder the command creates or fills. */
  readonly kind: 'file' | 'folder';
  /** For a folder output: the files the command writes in it (each must not be an input either). */
  readonly writes?: readonly string[];
  /** The inputs the command reads. */
  readonly inputs?: readonly GuardedInput[];
}

/**
 * Checks an output path before any work starts: it must not be (or, for a folder output, hold as
 * one of the files written there) any input, nor lie inside an input folder, comparing real paths
 * (symbolic links and `..` resolved); a file output's folder must exist and be writable, and the
 * file, where it exists, must be a writable file; a folder output must be a writable folder, or be
 * creatable (its nearest existing parent a writable folder).
 */
export function guardOutput(out: string, guard: OutputGuard): void {
  const option = guard.option ?? '--out';
  const targets = [out, ...(guard.kind === 'folder' ? (guard.writes ?? []).map((name) => path.join(out, name)) : [])].map(realPath);
  for (const [flag, input] of guard.inputs ?? []) {
    if (input === undefined || !existsSync(input)) continue;
    const real = realPath(input);
    const inputIsFolder = statSync(real).isDirectory();
    for (const target of targets) {
      if (target === real) throw new ConfigError(option, `${out} is the input given to ${flag}: writing there would destroy it (choose another path)`);
      if (inputIsFolder && target.startsWith(`${real}${path.sep}`)) throw new ConfigError(option, `${out} lies inside ${input}, the input given to ${flag} (choose a path outside it)`);
    }
  }
  const target = path.resolve(out);
  if (guard.kind === 'file') {
    const folder = path.dirname(target);
    if (!existsSync(folder)) throw new ConfigError(option, `the folder ${folder} does not exist (create it first)`);
    if (!statSync(folder).isDirectory()) throw new ConfigError(option, `${folder} is not a folder`);
    if (!writable(folder)) throw new ConfigError(option, `the folder ${folder} is not writable`);
    if (existsSync(target)) {
      if (statSync(target).isDirectory()) throw new ConfigError(option, `${out} is a folder, expected a file`);
      if (!writable(target)) throw new ConfigError(option, `${out} is not writable`);
    }
    return;
  }
  let existing = target;
  while (!existsSync(existing)) existing = path.dirname(existing);
  if (!statSync(existing).isDirectory()) throw new ConfigError(option, existing === target ? `${out} is a file, expected a folder` : `cannot create the folder ${out}: ${existing} is a file`);
  if (!writable(existing)) throw new ConfigError(option, existing === target ? `the folder ${out} is not writable` : `cannot create the folder ${out}: ${existing} is not writable`);
}

/** The real path of `file`, or, where it does not exist yet, of its nearest existing parent joined with the rest. */
function realPath(file: string): string {
  const absolute = path.resolve(file);
  let existing = absolute;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    return path.join(realpathSync.native(existing), path.relative(existing, absolute));
  } catch {
    return absolute;
  }
}

function writable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
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
