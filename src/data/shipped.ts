import { fileURLToPath } from 'node:url';

/** The shipped data: `datasets/` at the package root, two levels above both src/data and dist/data. */
const SHIPPED_DIR = new URL('../../datasets/', import.meta.url);

/** The path of a file or folder shipped under `datasets/` (e.g. `'mq2008/S1.txt.gz'`, `'coat'`). */
export function shippedDataPath(relative: string): string {
  return fileURLToPath(new URL(relative, SHIPPED_DIR));
}
