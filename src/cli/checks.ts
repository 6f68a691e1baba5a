import { ConfigError } from '../core/errors.js';

/** A yargs `.check`: the named options must be integers ≥ 1 (yargs only checks that they are numbers). */
export function positiveIntegers(argv: Record<string, unknown>, names: string[]): true {
  for (const name of names) {
    const value = argv[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new ConfigError(`--${name}`, `expected an integer ≥ 1, found ${String(value)}`);
    }
  }
  return true;
}
