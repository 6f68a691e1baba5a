import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClickLabError, fileSystemError } from '../../src/core/errors.js';

describe('fileSystemError', () => {
  it('turns a missing file into a ClickLabError that names the path', () => {
    let caught: unknown;
    try {
      readFileSync('/nonexistent-clicklab-dir/log.csv');
    } catch (error) {
      caught = error;
    }
    const converted = fileSystemError(caught);
    expect(converted).toBeInstanceOf(ClickLabError);
    expect(converted!.message).toBe('/nonexistent-clicklab-dir/log.csv: no such file or folder');
  });

  it('leaves every other error alone (bugs keep their stack trace)', () => {
    expect(fileSystemError(new TypeError('x is undefined'))).toBeUndefined();
    expect(fileSystemError('a string')).toBeUndefined();
  });

  it('names the operation where a file-system error carries no path (a write to an open descriptor)', () => {
    expect(fileSystemError(Object.assign(new Error('odd'), { code: 'ENOSPC', syscall: 'write' }))?.message).toBe('write failed: no space left on the device');
  });
});
