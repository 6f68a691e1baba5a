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
    expect(fileSystemError(Object.assign(new Error('odd'), { code: 'ENOENT' }))).toBeUndefined(); // no path
    expect(fileSystemError('a string')).toBeUndefined();
  });
});
