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
import { baiduUltrParquetBatches, readBaiduUltrParquet } from './baidu-ultr-parquet.js';
import { baiduUltrRawBatches, readBaiduUltrRaw } from './baidu-ultr-raw.js';
import { newVocabularies, type BaiduUltrBatch, type BaiduUltrBatchOptions } from './baidu-ultr-sessions.js';
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

/**
 * A Baidu-ULTR input as batches of whole sessions, by the reader its kind needs (an Arrow/Feather
 * file is read whole by the in-memory reader and handed over as one batch).
 */
export async function* baiduUltrBatches(input: string, options: BaiduUltrBatchOptions & { readonly progress?: Progress } = {}): AsyncGenerator<BaiduUltrBatch> {
  switch (baiduUltrSourceOf(input)) {
    case 'raw':
      yield* baiduUltrRawBatches(input, options);
      return;
    case 'parquet':
      yield* baiduUltrParquetBatches(input, options);
      return;
    case 'arrow': {
      const whole = await readBaiduUltrClicks(input, { progress: options.progress });
      const { queries, documents } = options.vocabularies ?? newVocabularies();
      // Into the caller's vocabularies: the same indices when they start empty, renumbered otherwise.
      const queryIndex = Int32Array.from(whole.queryIds ?? [], (id) => queries.encode(id));
      const documentIndex = Int32Array.from(whole.itemIds ?? [], (id) => documents.encode(id));
      const log = whole.logged.log;
      yield {
        log: { ...log, sessionQuery: log.sessionQuery.map((q) => queryIndex[q]), document: log.document.map((d) => documentIndex[d]) },
        displayPosition: whole.displayPosition,
        displayedTime: options.displayedTime === false ? null : whole.displayedTime,
      };
    }
  }
}
