/**
 * Turns a real click log (Yandex, Baidu-ULTR, FINN.no slates, or any query/document/position/click
 * table) into a clicklab click log file: the function behind `clicklab convert`.
 *
 * The output has clicklab's click-log columns (click-log-table.ts) in the format of its extension.
 * Where the source's ids are text (Baidu-ULTR, a generic log read with `ids: 'text'`), the log holds
 * dense indices and the ids behind them are written next to it, one per line (line k + 1 holds the
 * id of index k): `OUT.query-ids.txt` and `OUT.item-ids.txt`.
 */
import { ConfigError } from '../core/errors.js';
import { writeIdTexts } from './id-vocabulary.js';
import type { Progress } from '../core/progress.js';
import { baiduUltrBatches } from './baidu-ultr-input.js';
import { newVocabularies } from './baidu-ultr-sessions.js';
import { readGenericClickLog, writeClickLog, clickLogFormatOf, type ClickLogFormat } from './click-log-io.js';
import { openClickLogSink } from './log-sink.js';
import type { ClickLogColumnMapping } from './click-log-table.js';
import { readFinnSlates, slateLogToClickLog } from './finn-slates.js';
import type { ReplayedClicks } from './replayed-log.js';
import { withTextIdHint } from './log-input.js';
import { detectYandexFormat, readPyClickSampleLog } from './pyclick-sample.js';
import { readYandexRelPredLog } from './yandex-relpred.js';

export const CONVERT_FORMATS = ['yandex', 'pyclick', 'baidu-ultr', 'finn', 'generic'] as const;
export type ConvertFormat = (typeof CONVERT_FORMATS)[number];

export interface ConvertOptions {
  readonly format: ConvertFormat;
  /** Generic logs: the file's column names by role. */
  readonly columns?: ClickLogColumnMapping;
  /** Generic logs: 'text' to encode any ids as dense indices (default 'integer'). */
  readonly ids?: 'integer' | 'text';
  /** Generic logs: the input's format when its extension does not say. */
  readonly inputFormat?: ClickLogFormat;
  /** FINN.no: read only the first `users` users. */
  readonly users?: number;
  /** Yandex, PyClick's sample: what to do with clicks that match no result of their page (default 'drop', as PyClick). */
  readonly unmatchedClicks?: 'drop' | 'error';
  /** Progress of the Yandex, Baidu-ULTR and FINN.no readers (default silent). */
  readonly progress?: Progress;
}

export interface ConvertSummary {
  readonly sessions: number;
  readonly rows: number;
  readonly clicks: number;
  /** Files written besides the log (the id vocabularies). */
  readonly idFiles: string[];
  /** What the loader counted but did not turn into clicks, one line per kind, for the user to see. */
  readonly notes: string[];
}

/**
 * Parses `--columns` text: comma-separated `role=column` pairs, roles session, query, item (or
 * document), position, click, pscore; `session=` with no column says the file has none.
 */
export function parseColumnMapping(text: string): ClickLogColumnMapping {
  const mapping: Record<string, string | null> = {};
  const roles: Record<string, string> = { session: 'session', query: 'query', item: 'item', document: 'item', position: 'position', click: 'click', pscore: 'pscore' };
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)) {
    const eq = pair.indexOf('=');
    const role = roles[eq < 0 ? pair : pair.slice(0, eq).trim()];
    if (eq < 0 || role === undefined) {
      throw new ConfigError('--columns', `expected role=column pairs with roles ${Object.keys(roles).join(', ')}, found '${pair}'`);
    }
    if (role in mapping) throw new ConfigError('--columns', `expected each role once, found '${role}' twice`);
    const column = pair.slice(eq + 1).trim();
    if (column.length === 0 && role !== 'session') throw new ConfigError('--columns', `expected a column name for '${role}' (only session may be empty: no session column), found none`);
    mapping[role] = column.length === 0 ? null : column;
  }
  return mapping as ClickLogColumnMapping;
}

function sumClicks(click: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < click.length; i++) n += click[i];
  return n;
}

async function readPyClickSample(input: string, options: ConvertOptions, notes: string[]): Promise<ReplayedClicks> {
  const sample = await readPyClickSampleLog(input, { unmatchedClicks: options.unmatchedClicks, progress: options.progress });
  const c = sample.clickCounts;
  notes.push(
    `PyClick's example sample format: ${c.clicks} clicks listed, ${c.repeated} repeated clicks on a clicked document counted once, ${c.notOnPage} on a document not on the page dropped (as PyClick)`,
  );
  return sample;
}

/** Reads `input` as `options.format` and writes the click log to `out` (format by extension). */
export async function convertClickLog(input: string, out: string, options: ConvertOptions): Promise<ConvertSummary> {
  clickLogFormatOf(out); // an unusable output name fails before the input is read
  let replayed: ReplayedClicks;
  const notes: string[] = [];
  switch (options.format) {
    case 'pyclick':
      replayed = await readPyClickSample(input, options, notes);
      break;
    case 'yandex': {
      const detected = await detectYandexFormat(input);
      if (detected === 'pyclick') {
        replayed = await readPyClickSample(input, options, notes);
        break;
      }
      if (detected === null) {
        throw new ConfigError(
          '--format',
          `${input}: expected a Yandex log, either the raw challenge log ('SessionID TimePassed Q|C ...' tab-separated lines) or PyClick's example sample ('<query>\t<doc>,… : <clicked doc>, …' sessions separated by ';'); its first line is neither`,
        );
      }
      const yandex = await readYandexRelPredLog(input, { unmatchedClicks: options.unmatchedClicks, progress: options.progress });
      const c = yandex.clickCounts;
      notes.push(
        `${c.clicks} click lines: ${c.repeated} repeated clicks on a clicked result counted once, ${c.notOnPage} on a URL not on the page and ${c.noPage} without a page of their session dropped (as PyClick)`,
      );
      replayed = yandex;
      break;
    }
    case 'baidu-ultr':
      return convertBaiduUltr(input, out, options);
    case 'finn': {
      const { slates, clickCounts: c } = await readFinnSlates(input, { users: options.users, progress: options.progress });
      notes.push(
        `${c.steps} slates: ${c.clicked} with a click on a shown item, ${c.noClick} without a click, ${c.unknownItem} with a click on an unknown item, ${c.notInSlate} with a click on an item not in the slate (no clicked row)`,
      );
      notes.push("each slate is a session whose query is its user id; steps and interaction types are in the library's slate log (readFinnSlates)");
      replayed = { logged: { log: slateLogToClickLog(slates) }, queryIds: null, itemIds: null };
      break;
    }
    case 'generic':
      replayed = await withTextIdHint(readGenericClickLog(input, { columns: options.columns, ids: options.ids, format: options.inputFormat }), options.ids);
      break;
    default:
      throw new ConfigError('--format', `expected one of ${CONVERT_FORMATS.join(', ')}, found '${String(options.format)}'`);
  }
  await writeClickLog(out, replayed.logged);
  const idFiles = writeIdTexts(out, { query: replayed.queryIds, document: replayed.itemIds });
  const { log } = replayed.logged;
  return { sessions: log.sessionQuery.length, rows: log.document.length, clicks: sumClicks(log.click), idFiles, notes };
}

/**
 * Baidu-ULTR (raw .gz partitions, Parquet copies, or an Arrow file) streamed batch by batch into
 * the output (CSV, JSON Lines and Parquet are written as they come; Arrow is written whole):
 * memory is a batch and the id vocabularies, not the log.
 */
async function convertBaiduUltr(input: string, out: string, options: ConvertOptions): Promise<ConvertSummary> {
  const vocabularies = newVocabularies();
  const sink = await openClickLogSink(out);
  let sessions = 0;
  let rows = 0;
  let clicks = 0;
  try {
    // The displayed time is not a click-log column: not parsed.
    for await (const batch of baiduUltrBatches(input, { displayedTime: false, vocabularies, progress: options.progress })) {
      await sink.write({ log: batch.log });
      sessions += batch.log.sessionQuery.length;
      rows += batch.log.document.length;
      clicks += sumClicks(batch.log.click);
    }
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
  return { sessions, rows, clicks, idFiles: writeIdTexts(out, { query: vocabularies.queries.ids, document: vocabularies.documents.ids }), notes: [] };
}
