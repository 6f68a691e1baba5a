import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

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
    // Writes to a descriptor (ENOSPC, EFBIG) carry no path: name the file the user asked for.
    if (error instanceof Error && (error as NodeJS.ErrnoException).code !== undefined && (error as NodeJS.ErrnoException).path === undefined) {
      (error as NodeJS.ErrnoException).path = file;
    }
    throw error;
  }
  syncFolder(path.dirname(file));
}

/** The temporary name a file is written under before it is renamed into place (same folder, so the rename is atomic). */
export function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
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
