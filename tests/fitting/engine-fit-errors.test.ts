import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { outOfMemoryHint } from '../../src/fitting/engine-fit.js';

describe('engine fit errors', () => {
  it("DuckDB's out-of-memory error becomes one line about --memory-limit; other errors pass as they are", () => {
    const duckdb = new Error(
      "Out of Memory Error: failed to pin block of size 256.0 KiB (454.2 MiB/453.9 MiB used)\n\nPossible solutions:\n* Reducing the number of threads (SET threads=X)\n* Increasing the memory limit (SET memory_limit='...GB')",
    );
    const hint = outOfMemoryHint(duckdb, { memoryLimit: '512MB' });
    expect(hint).toBeInstanceOf(ConfigError);
    expect((hint as Error).message).toBe(
      '--memory-limit: DuckDB ran out of its memory limit of 512MB (failed to pin block of size 256.0 KiB (454.2 MiB/453.9 MiB used)); give a larger --memory-limit, e.g. 4GB',
    );
    expect((hint as Error).message).not.toContain('\n');
    const other = new Error('Binder Error: column not found');
    expect(outOfMemoryHint(other, {})).toBe(other);
  });
});
