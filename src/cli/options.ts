import type { Argv, Options } from 'yargs';
import { BACKEND_CHOICES, type BackendChoice } from '../learning/backend.js';
import { numbersFrom, positiveIntegers } from './checks.js';

/**
 * How the commands declare their flags: each builder is a table from flag name to an option made
 * by the helpers below (or, for one-off shapes, a plain yargs option), applied by `withOptions`.
 * The range a number must be in is part of its option (`count`, `above`, `atLeast`), so no
 * command repeats a list of names in a `.check`.
 */
export interface OptionSpec extends Options {
  /** An integer ≥ 1 (yargs only checks that it is a number); checked when given or defaulted. */
  readonly positiveInteger?: true;
  /** A finite number ≥ this (or > it with `exclusive`); checked when given or defaulted. */
  readonly lowerBound?: { readonly value: number; readonly exclusive?: boolean };
}

export type OptionTable = Record<string, OptionSpec>;

/**
 * The options of `table`, in its order, on `yargs`, and one `.check` for the ranges they declare
 * (an option left out, without a default, is not checked).
 */
export function withOptions(yargs: Argv, table: OptionTable): Argv {
  const integers: string[] = [];
  const bounded: [string, { value: number; exclusive?: boolean }][] = [];
  for (const [name, { positiveInteger, lowerBound, ...options }] of Object.entries(table)) {
    yargs = yargs.option(name, options);
    if (positiveInteger) integers.push(camelCase(name));
    if (lowerBound) bounded.push([camelCase(name), lowerBound]);
  }
  if (integers.length === 0 && bounded.length === 0) return yargs;
  return yargs.check((argv) => {
    positiveIntegers(
      argv,
      integers.filter((name) => argv[name] !== undefined),
    );
    for (const [name, { value, exclusive }] of bounded) numbersFrom(argv, [name], value, exclusive);
    return true;
  });
}

/** yargs' key for a flag: `batch-size` is `batchSize`. */
function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

const described = (describe: string | undefined): { describe?: string } => (describe === undefined ? {} : { describe });

/** A number; without a default it is optional. */
export function num(fallback?: number, describe?: string): OptionSpec {
  return { type: 'number', ...(fallback === undefined ? {} : { default: fallback }), ...described(describe) };
}

/** An integer ≥ 1 (a count, a size, a period); without a default it is optional. */
export function count(fallback?: number, describe?: string): OptionSpec {
  return { ...num(fallback, describe), positiveInteger: true };
}

/** A list of numbers. */
export function numbers(fallback?: number[], describe?: string): OptionSpec {
  return { ...num(undefined, describe), array: true, ...(fallback === undefined ? {} : { default: fallback }) };
}

/** A string (a path, a name, a JSON spec); without a default it is optional. */
export function text(fallback?: string, describe?: string): OptionSpec {
  return { type: 'string', ...(fallback === undefined ? {} : { default: fallback }), ...described(describe) };
}

/** A string the command cannot run without. */
export function requiredText(describe: string): OptionSpec {
  return { type: 'string', demandOption: true, describe };
}

/** A list of strings. */
export function texts(fallback?: string[], describe?: string): OptionSpec {
  return { ...text(undefined, describe), array: true, ...(fallback === undefined ? {} : { default: fallback }) };
}

/** One of `choices`; `fallback: 'required'` demands it. */
export function choice<C extends string>(choices: readonly C[], fallback?: C | 'required', describe?: string): OptionSpec {
  const given = fallback === undefined ? {} : fallback === 'required' ? { demandOption: true } : { default: fallback };
  return { choices, ...given, ...described(describe) };
}

/** A boolean flag, off unless given. */
export function flag(describe?: string): OptionSpec {
  return { type: 'boolean', default: false, ...described(describe) };
}

// The options several commands share.

/** `--backend`: the TF.js backend, `auto` unless given. */
export function backendOption(describe?: string): OptionSpec {
  return choice<BackendChoice>(BACKEND_CHOICES, 'auto', describe);
}

/** `--quiet`: no progress on stderr. */
export function quietOption(describe?: string): OptionSpec {
  return flag(describe);
}

/** `--seed`: 1 unless given. */
export function seedOption(describe?: string): OptionSpec {
  return num(1, describe);
}

/** `--workers`: threads that share the work (the results do not depend on their number). */
export function workersOption(fallback: number, describe: string): OptionSpec {
  return count(fallback, describe);
}

/** `--out` of the commands that write a click or interaction log. */
export const LOG_FILE_OUT = requiredText('output file: .csv, .jsonl, .arrow or .parquet');
