/**
 * Which Baidu-ULTR reader reads an input: the authors' raw gzipped text (baidu-ultr-raw.ts), the
 * Parquet copies through DuckDB (baidu-ultr-parquet.ts), or the Arrow/Feather copies in memory
 * (baidu-ultr.ts: DuckDB has no Arrow IPC reader built in). A file is told by its extension, a
 * folder by the partitions in it (Parquet first, as the engine's folders), a glob by its pattern.
 */
import { readdirSync, statSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { readBaiduUltrClicks, type BaiduUltrClickLog } from './baidu-ultr.js';
import { readBaiduUltrParquet } from './baidu-ultr-parquet.js';
import { readBaiduUltrRaw } from './baidu-ultr-raw.js';
import type { BaiduUltrBatchOptions } from './baidu-ultr-sessions.js';
import { isGlob } from './engine.js';

export type BaiduUltrSource = 'raw' | 'parquet' | 'arrow';

/** The kind of Baidu-ULTR data `input` names (a file, a folder of partitions or a glob). */
export function baiduUltrSourceOf(input: string, option = '<input>'): BaiduUltrSource {
  let names = [input];
  if (!isGlob(input)) {
    let folder: boolean;
    try {
      folder = statSync(input).isDirectory();
    } catch {
      throw new ConfigError(option, `expected a file, a folder of partitions or a glob, found no file or folder '${input}'`);
    }
    if (folder) names = readdirSync(input, { recursive: true }).map(String);
  }
  if (names.some((n) => /\.parquet$/i.test(n))) return 'parquet';
  if (names.some((n) => /\.gz$/i.test(n))) return 'raw';
  if (names.length === 1 && /\.(arrow|feather|ipc)$/i.test(input)) return 'arrow';
  throw new ConfigError(
    option,
    `expected Baidu-ULTR data: the authors' gzipped partitions (.gz), the Parquet copies (.parquet) — a file, a folder of partitions or a glob — or one Arrow/Feather file, found '${input}'`,
  );
}

/** A Baidu-ULTR input read whole into a click log, by the reader its kind needs. */
export async function readBaiduUltrInput(input: string, options: Omit<BaiduUltrBatchOptions, 'batchRows'> & { readonly progress?: Progress } = {}): Promise<BaiduUltrClickLog> {
  switch (baiduUltrSourceOf(input)) {
    case 'raw':
      return readBaiduUltrRaw(input, options);
    case 'parquet':
      return readBaiduUltrParquet(input, options);
    case 'arrow':
      return readBaiduUltrClicks(input, { progress: options.progress });
  }
}
