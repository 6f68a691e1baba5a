/**
 * PyClick's example Yandex sample format (`examples/data/trainSample` and `testSample` in PyClick's
 * history, read by its `WscdExample.py`), as a clicklab click log. Not the raw Relevance Prediction
 * Challenge log (that is yandex-relpred.ts): a preprocessed text file with one line per query and the
 * sessions of that query separated by `;`:
 *
 *     <query>\t<doc1>,<doc2>,…,<doc10> : <clicked doc> , <clicked doc> , … ; <query>\t… : ; …
 *
 * Each session is one displayed list: query `<query>` (text, e.g. `98435_1`), documents at positions
 * 1..n in the order listed. After the `:` come the clicked documents in click order, comma-separated;
 * nothing after the `:` means no click. Spaces around every separator are ignored. As for the raw log:
 * - a document clicked more than once counts once (the slot's click is 1; `repeated` counts the rest);
 * - a click on a document not on the session's page is dropped and counted (`notOnPage`), or
 *   rejected with `unmatchedClicks: 'error'`;
 * - a document listed twice on one page takes the click at its first position.
 * Query and document ids are text to the format, so both get dense indices in order of first
 * appearance (`queryIds`, `itemIds` give the ids behind them).
 */
import { open, stat } from 'node:fs/promises';
import { DataFormatError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { MAX_LIST_LENGTH, type ClickLog } from '../core/types.js';
import { IdVocabulary } from './id-vocabulary.js';
import { grown, trimmed } from './log-schema.js';
import type { ReplayedClicks } from './replayed-log.js';
import { forEachLine, type LineParser } from './tokenizer.js';

export interface PyClickSampleReadOptions {
  /** 'drop' (default, as PyClick): count clicks on documents not on the page; 'error': reject them. */
  readonly unmatchedClicks?: 'drop' | 'error';
  /** Reports the bytes read (default silent). */
  readonly progress?: Progress;
}

/** The clicks of the file and those that did not become a click of the log. */
export interface PyClickSampleClickCounts {
  /** Clicked documents listed after the `:`s. */
  readonly clicks: number;
  /** Clicks on a document already clicked in that session (counted once). */
  readonly repeated: number;
  /** Clicks on a document not on the session's page (dropped). */
  readonly notOnPage: number;
}

export interface PyClickSampleLog extends ReplayedClicks {
  readonly queryIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly clickCounts: PyClickSampleClickCounts;
}

const INT32_MAX = 0x7fffffff;

class PyClickSampleParser implements LineParser {
  private lineNumber = 0;
  private bytes = 0;
  private rows = 0;
  private sessions = 0;
  private document = new Int32Array(1 << 12);
  private click = new Uint8Array(1 << 12);
  private position = new Uint16Array(1 << 12);
  private sessionQuery = new Int32Array(1 << 10);
  private sessionStart = new Int32Array(1 << 10);
  private readonly queries = new IdVocabulary();
  private readonly items = new IdVocabulary();
  private clicks = 0;
  private repeated = 0;
  private notOnPage = 0;

  constructor(
    private readonly file: string,
    private readonly unmatched: 'drop' | 'error',
    private readonly progress: Progress,
  ) {}

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    this.bytes += end - start + 1;
    if ((this.lineNumber & 0xff) === 0) this.progress.update(this.bytes);
    const sessions = b.toString('latin1', start, end).split(';');
    for (let i = 0; i < sessions.length; i++) {
      const text = sessions[i].trim();
      if (text.length > 0) this.session(text, i + 1);
    }
  }

  private session(text: string, index: number): void {
    const tab = text.indexOf('\t');
    if (tab < 0) this.fail(index, `expected '<query>\\t<doc>,<doc>,… : <clicked doc>, …', found no tab in '${text.slice(0, 40)}'`);
    const colon = text.indexOf(':', tab);
    if (colon < 0) this.fail(index, `expected ':' after the documents (nothing after it: no click), found none in '${text.slice(0, 60)}'`);
    const query = text.slice(0, tab).trim();
    if (query.length === 0) this.fail(index, 'expected a query before the tab, found none');
    const docs = text.slice(tab + 1, colon).split(',');
    const results = docs.length;
    if (results > MAX_LIST_LENGTH) this.fail(index, `expected at most ${MAX_LIST_LENGTH} documents, found ${results}`);
    const s = this.sessions;
    if (s === this.sessionQuery.length) {
      this.sessionQuery = grown(this.sessionQuery, 2 * s);
      this.sessionStart = grown(this.sessionStart, 2 * s);
    }
    while (this.rows + results > this.document.length) {
      if (this.document.length === INT32_MAX) this.fail(index, `expected at most ${INT32_MAX} displayed results, found more`);
      const n = Math.min(INT32_MAX, this.document.length * 2);
      this.document = grown(this.document, n);
      this.click = grown(this.click, n);
      this.position = grown(this.position, n);
    }
    const start = this.rows;
    for (let k = 0; k < results; k++) {
      const doc = docs[k].trim();
      if (doc.length === 0) this.fail(index, `expected a document id at position ${k + 1}, found an empty one`);
      this.document[start + k] = this.items.encode(doc);
      this.position[start + k] = k;
      this.click[start + k] = 0;
    }
    this.sessionQuery[s] = this.queries.encode(query);
    this.sessionStart[s] = start;
    this.sessions = s + 1;
    this.rows = start + results;
    const clicked = text.slice(colon + 1);
    if (clicked.trim().length === 0) return;
    for (const field of clicked.split(',')) {
      const doc = field.trim();
      if (doc.length === 0) this.fail(index, `expected clicked document ids separated by ',', found an empty one in '${clicked.trim().slice(0, 60)}'`);
      this.clicks++;
      this.clickOn(doc, start, results, index);
    }
  }

  private clickOn(doc: string, start: number, results: number, index: number): void {
    for (let k = 0; k < results; k++) {
      // Compared as text: the vocabulary's id of a document not on the page would be a new index.
      if (this.items.ids[this.document[start + k]] !== doc) continue;
      if (this.click[start + k] === 1) this.repeated++;
      this.click[start + k] = 1;
      return;
    }
    if (this.unmatched === 'error') this.fail(index, `expected a click on one of the session's documents, found '${doc.slice(0, 40)}'`);
    this.notOnPage++;
  }

  private fail(index: number, problem: string): never {
    throw new DataFormatError(this.file, this.lineNumber, `session ${index} of the line: ${problem}`);
  }

  finish(): PyClickSampleLog {
    const sessionOffsets = new Int32Array(this.sessions + 1);
    sessionOffsets.set(this.sessionStart.subarray(0, this.sessions));
    sessionOffsets[this.sessions] = this.rows;
    const log: ClickLog = {
      sessionQuery: trimmed(this.sessionQuery, this.sessions),
      sessionOffsets,
      document: trimmed(this.document, this.rows),
      position: trimmed(this.position, this.rows),
      click: trimmed(this.click, this.rows),
    };
    return {
      logged: { log },
      queryIds: this.queries.ids,
      itemIds: this.items.ids,
      clickCounts: { clicks: this.clicks, repeated: this.repeated, notOnPage: this.notOnPage },
    };
  }
}

/** Reads a file in PyClick's example sample format (see the top of this file), streaming its lines. */
export async function readPyClickSampleLog(path: string, options: PyClickSampleReadOptions = {}): Promise<PyClickSampleLog> {
  const progress = options.progress ?? silentProgress;
  progress.start(`reading ${path}`, (await stat(path)).size);
  const parser = new PyClickSampleParser(path, options.unmatchedClicks ?? 'drop', progress);
  await forEachLine(path, parser);
  progress.finish();
  return parser.finish();
}

/**
 * Which of the two Yandex text formats a file holds, from its first non-empty line: 'relpred' (the
 * raw challenge log: tab-separated action lines whose third field is Q or C) or 'pyclick' (PyClick's
 * example sample: `<query>\t<docs> : <clicks>`). Null when the start of the file is neither.
 */
export async function detectYandexFormat(path: string): Promise<'relpred' | 'pyclick' | null> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const lines = buffer.toString('latin1', 0, bytesRead).split('\n');
    const first = lines.find((l) => l.trim().length > 0);
    if (first === undefined) return null;
    const fields = first.split('\t');
    if (fields.length >= 4 && (fields[2] === 'Q' || fields[2] === 'C')) return 'relpred';
    const session = first.split(';')[0];
    const tab = session.indexOf('\t');
    if (tab > 0 && session.indexOf(':', tab) > tab) return 'pyclick';
    return null;
  } finally {
    await handle.close();
  }
}
