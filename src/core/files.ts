import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ClickLabError, DataFormatError } from './errors.js';

/**
 * Writes a whole file atomically: to a temporary name in the same folder, flushed to disk, then
 * renamed over `file`. A failure (or a kill) leaves the previous `file` untouched and no partial
 * file under its name; the temporary file is removed on failure.
 */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const temporary = temporaryName(file);
  try {
    const fd = openSync(temporary, 'w');
    try {
      const bytes = typeof content === 'string' ? Buffer.from(content) : content;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw writeFailure(file, error);
  }
  syncFolder(path.dirname(file));
}

let serial = 0;

/**
 * The temporary name a file is written under before it is renamed into place: in the same folder
 * (so the rename is atomic), hidden, with the pid and a serial (two writers of one process may
 * target the same file).
 */
function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${serial++}.tmp`);
}

/** Flushes a folder's entries (a rename into it) to disk; a no-op where folders cannot be opened. */
export function syncFolder(folder: string): void {
  let fd: number;
  try {
    fd = openSync(folder, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder: the rename itself is still atomic.
  } finally {
    closeSync(fd);
  }
}

/** Temporary files not yet committed or aborted: removed when the process exits (not on SIGKILL). */
const pending = new Set<string>();
let exitHook = false;

function track(temporary: string): void {
  pending.add(temporary);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const file of pending) rmSync(file, { force: true });
  });
}

/**
 * A file written under a temporary name in its folder and renamed over `file` by `commit` (after
 * an fsync), so that `file` only ever holds a previous version or the complete new one. `abort`
 * (or the process's exit) removes the temporary file. Writers open `temporary` themselves.
 */
export class PendingFile {
  readonly temporary: string;
  private settled = false;

  constructor(readonly file: string) {
    this.temporary = temporaryName(file);
    track(this.temporary);
  }

  /** Flushes the temporary file to disk and renames it over `file`. */
  async commit(): Promise<void> {
    if (this.settled) return;
    try {
      const handle = await open(this.temporary, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(this.temporary, this.file);
    } catch (error) {
      await this.abort();
      throw writeFailure(this.file, error);
    }
    this.settled = true;
    pending.delete(this.temporary);
    syncFolder(path.dirname(this.file));
  }

  /** Removes the temporary file; `file` is left as it was. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    pending.delete(this.temporary);
    await rm(this.temporary, { force: true });
  }
}

/**
 * A failure to write `file` as a ClickLabError whose one line names it (disk full, a file-size
 * limit, permissions), for file-system errors; any other error is returned as it is (a bug).
 */
export function writeFailure(file: string, error: unknown): unknown {
  if (error instanceof ClickLabError || !(error instanceof Error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return error;
  return new ClickLabError(`${file}: cannot write the file: ${WRITE_PROBLEMS[code] ?? error.message}; the previous file, if any, is untouched`);
}

const WRITE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EFBIG: 'file too large (past a file-size limit)',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
};

/**
 * Refuses a folder given where an input file is expected, with one line naming it (reading a folder
 * fails later with a bare EISDIR). A missing path passes: the read reports it.
 */
export async function refuseFolderInput(file: string): Promise<void> {
  const found = await stat(file).catch(() => null);
  if (found?.isDirectory()) throw new DataFormatError(file, null, 'is a folder, expected a file');
}

/**
 * Writes a folder atomically: `fill` writes its files into a temporary folder beside `folder`, which
 * is then renamed into place (a previous folder there is moved aside first and removed after, so
 * `folder` holds the old or the complete new one). On failure the temporary folder is removed and
 * the error names `folder`.
 */
export async function writeFolderAtomic(folder: string, fill: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = path.join(path.dirname(folder), `.${path.basename(folder)}.${process.pid}-${Date.now()}.tmp`);
  mkdirSync(temporary);
  try {
    await fill(temporary);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw writeFailure(folder, error);
  }
  const aside = existsSync(folder) ? `${temporary}.old` : null;
  try {
    if (aside) renameSync(folder, aside);
    renameSync(temporary, folder);
  } catch (error) {
    if (aside && !existsSync(folder)) renameSync(aside, folder);
    rmSync(temporary, { recursive: true, force: true });
    throw writeFailure(folder, error);
  }
  if (aside) rmSync(aside, { recursive: true, force: true });
  syncFolder(path.dirname(folder));
}
