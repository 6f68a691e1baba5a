/**
 * What the real-log loaders (Yandex, Baidu-ULTR, generic CSV/Parquet with text ids) return: a
 * clicklab click log plus the vocabularies that turn its integer query and item indices back into
 * the ids the data set uses.
 *
 * `ClickLog` holds queries and items as int32 indices. Data sets whose ids are already integers in
 * [0, 2^31 − 1] (Yandex's QueryID and URLID) keep them as they are and have no vocabulary; data sets
 * with text ids (Baidu-ULTR's `url_md5`, a generic log's URLs) get dense indices 0, 1, 2, ... in
 * order of first appearance, and `queryIds[q]` / `itemIds[i]` is the id behind index q / i.
 */
import type { LoggedClicks } from './click-log-table.js';

export interface ReplayedClicks {
  readonly logged: LoggedClicks;
  /** The data set's id of each query index, or null when the indices are the file's own integer ids. */
  readonly queryIds: readonly string[] | null;
  /** The data set's id of each item index, or null when the indices are the file's own integer ids. */
  readonly itemIds: readonly string[] | null;
}
