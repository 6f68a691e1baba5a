/** Base class of every error clicklab raises on purpose: the message says what was expected and where. */
export class ClickLabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Malformed input data: names the file and line (1-based) and what was expected there. */
export class DataFormatError extends ClickLabError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly problem: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${problem}`);
  }
}

/** An invalid scenario or option: names the field path, what was expected and what was found. */
export class ConfigError extends ClickLabError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** What a Node file-system error code means to someone who named the file. */
const FILE_SYSTEM_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EFBIG: 'file too large (the file-size limit was reached)',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'file name too long',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/**
 * A Node file-system error (a missing input file, an output folder that does not exist) as a
 * ClickLabError naming the path, so the command line reports it in one line like any other bad
 * input; undefined for every other error (those are bugs and keep their stack trace).
 */
export function fileSystemError(error: unknown): ClickLabError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path, syscall } = error as NodeJS.ErrnoException;
  if (code === undefined || !Object.hasOwn(FILE_SYSTEM_PROBLEMS, code)) return undefined;
  // A write to an open file descriptor (ENOSPC, EFBIG) carries no path: say what failed instead.
  if (path === undefined) return new ClickLabError(`${syscall ?? 'a file operation'} failed: ${FILE_SYSTEM_PROBLEMS[code]}`);
  return new ClickLabError(`${path}: ${FILE_SYSTEM_PROBLEMS[code]}`);
}
