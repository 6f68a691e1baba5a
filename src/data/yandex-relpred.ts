/**
 * The Yandex Relevance Prediction Challenge click log (the format PyClick's
 * `YandexRelPredChallengeParser` reads), as a clicklab click log.
 *
 * Format: plain text, one action per line, fields separated by tabs. All ids are anonymised integers.
 *
 *     SessionID  TimePassed  Q  QueryID  RegionID  URLID_1  URLID_2 ... URLID_10     (a query: one result page)
 *     SessionID  TimePassed  C  URLID                                              (a click)
 *
 * TimePassed is the time since the session began (in the challenge's units). Some copies write each
 * result as `URLID,DomainID`; the domain is ignored. Every Q line is one displayed list: one clicklab
 * session with query QueryID, items URLID_1..n at positions 1..n. A C line is a click on the results
 * of the latest Q line, as PyClick treats it:
 * - repeated clicks on one result count once (the slot's click is 1, not a count);
 * - a click whose URLID is not on that page, or whose SessionID is not that Q line's SessionID (or
 *   that comes before any Q line), is dropped — PyClick drops these silently, clicklab counts them
 *   (`dropped`) and can reject them instead (`unmatchedClicks: 'error'`);
 * - a URLID listed twice on one page takes the click at its first position (PyClick's `list.index`).
 * A line that has neither shape (too few fields, a type other than Q or C, a non-integer id) is an
 * error naming the file and line: PyClick skips such lines, clicklab does not guess.
 *
 * Source: Yandex, "Relevance Prediction Challenge" (2011; results at the WSCD 2012 workshop at
 * WSDM), hundreds of millions of actions (size from memory, not checked here); released for research
 * use under the challenge's terms after registration on the challenge site, which is no longer
 * online.
 */
import { stat } from 'node:fs/promises';
import { DataFormatError } from '../core/errors.js';
import { refuseFolderInput } from '../core/files.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { MAX_LIST_LENGTH, type ClickLog } from '../core/types.js';
import { forEachLine, type LineParser } from './tokenizer.js';
import { grown, trimmed } from './log-schema.js';
import type { ReplayedClicks } from './replayed-log.js';

export interface YandexReadOptions {
  /** 'drop' (default, as PyClick): count clicks that match no result of the latest page; 'error': reject them. */
  readonly unmatchedClicks?: 'drop' | 'error';
  /** Reports the bytes read (default silent). */
  readonly progress?: Progress;
}

/** The clicks that were not turned into a click of the log, by reason. */
export interface YandexClickCounts {
  /** C lines read. */
  readonly clicks: number;
  /** Clicks on a result that was already clicked on that page (counted once). */
  readonly repeated: number;
  /** Clicks on a URLID not on the latest page of their session. */
  readonly notOnPage: number;
  /** Clicks whose SessionID is not that of the latest Q line (or that precede every Q line). */
  readonly noPage: number;
}

export interface YandexClickLog extends ReplayedClicks {
  /** The Yandex SessionID of each clicklab session (one per Q line). */
  readonly yandexSession: Int32Array;
  readonly clickCounts: YandexClickCounts;
}

const INT32_MAX = 0x7fffffff;

class YandexParser implements LineParser {
  private lineNumber = 0;
  private rows = 0;
  private document = new Int32Array(1 << 12);
  private click = new Uint8Array(1 << 12);
  private position = new Uint16Array(1 << 12);
  private sessions = 0;
  private sessionQuery = new Int32Array(1 << 10);
  private sessionStart = new Int32Array(1 << 10);
  private yandexSession = new Int32Array(1 << 10);
  private clicks = 0;
  private repeated = 0;
  private notOnPage = 0;
  private noPage = 0;
  private bytes = 0;

  constructor(
    private readonly file: string,
    private readonly unmatched: 'drop' | 'error',
    private readonly progress: Progress,
  ) {}

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    this.bytes += end - start + 1;
    if ((this.lineNumber & 0xffff) === 0) this.progress.update(this.bytes);
    if (start === end) this.fail('expected a Q or C action line, found an empty line');
    const fields = b.toString('latin1', start, end).split('\t');
    const type = fields[2];
    if (type === 'Q') this.query(fields);
    else if (type === 'C') this.clickLine(fields);
    else if (fields.length < 3) this.fail(`expected tab-separated fields 'SessionID TimePassed Q|C ...', found ${fields.length} field${fields.length === 1 ? '' : 's'}`);
    else this.fail(`expected the action type Q or C in field 3, found '${type.slice(0, 20)}'`);
  }

  private query(fields: string[]): void {
    if (fields.length < 6) {
      this.fail(`expected a query line 'SessionID TimePassed Q QueryID RegionID URLID...' with at least one URLID, found ${fields.length} fields`);
    }
    const results = fields.length - 5;
    if (results > MAX_LIST_LENGTH) this.fail(`expected at most ${MAX_LIST_LENGTH} URLIDs, found ${results}`);
    const session = this.id(fields[0], 'SessionID');
    this.id(fields[1], 'TimePassed');
    const query = this.id(fields[3], 'QueryID');
    this.id(fields[4], 'RegionID');
    const s = this.sessions;
    if (s === this.sessionQuery.length) {
      const n = s * 2;
      this.sessionQuery = grown(this.sessionQuery, n);
      this.sessionStart = grown(this.sessionStart, n);
      this.yandexSession = grown(this.yandexSession, n);
    }
    this.sessionQuery[s] = query;
    this.sessionStart[s] = this.rows;
    this.yandexSession[s] = session;
    this.sessions = s + 1;
    while (this.rows + results > this.document.length) {
      if (this.document.length === INT32_MAX) this.fail(`expected at most ${INT32_MAX} displayed results, found more`);
      const n = Math.min(INT32_MAX, this.document.length * 2);
      this.document = grown(this.document, n);
      this.click = grown(this.click, n);
      this.position = grown(this.position, n);
    }
    for (let k = 0; k < results; k++) {
      const field = fields[5 + k];
      const comma = field.indexOf(',');
      // `URLID,DomainID` in some copies: the URL is the result, the domain is not needed.
      if (comma >= 0) this.id(field.slice(comma + 1), `DomainID of result ${k + 1}`);
      this.document[this.rows + k] = this.id(comma >= 0 ? field.slice(0, comma) : field, `URLID of result ${k + 1}`);
      this.position[this.rows + k] = k;
    }
    this.rows += results;
  }

  private clickLine(fields: string[]): void {
    if (fields.length !== 4) this.fail(`expected a click line 'SessionID TimePassed C URLID' (4 fields), found ${fields.length} fields`);
    const session = this.id(fields[0], 'SessionID');
    this.id(fields[1], 'TimePassed');
    const url = this.id(fields[3], 'URLID');
    this.clicks++;
    const s = this.sessions - 1;
    if (s < 0 || this.yandexSession[s] !== session) {
      this.unmatchedClick(
        `expected a click of session ${session} to follow a Q line of that session, found ${s < 0 ? 'no Q line before it' : `the latest Q line in session ${this.yandexSession[s]}`}`,
      );
      this.noPage++;
      return;
    }
    for (let row = this.sessionStart[s]; row < this.rows; row++) {
      if (this.document[row] !== url) continue;
      if (this.click[row] === 1) this.repeated++;
      this.click[row] = 1;
      return;
    }
    this.unmatchedClick(`expected a click on one of the URLIDs of the latest Q line of session ${session}, found URLID ${url}`);
    this.notOnPage++;
  }

  private unmatchedClick(problem: string): void {
    if (this.unmatched === 'error') this.fail(problem);
  }

  /** A non-negative integer id that fits in int32: what every id of the challenge's files is. */
  private id(text: string, name: string): number {
    if (!/^\d{1,10}$/.test(text) || Number(text) > INT32_MAX) {
      this.fail(`expected ${name} to be an integer in [0, ${INT32_MAX}], found '${text.slice(0, 40)}'`);
    }
    return Number(text);
  }

  private fail(problem: string): never {
    throw new DataFormatError(this.file, this.lineNumber, problem);
  }

  finish(): YandexClickLog {
    if (this.sessions === 0) throw new DataFormatError(this.file, null, 'no sessions: expected Q (query) lines, found none');
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
      queryIds: null,
      itemIds: null,
      yandexSession: trimmed(this.yandexSession, this.sessions),
      clickCounts: { clicks: this.clicks, repeated: this.repeated, notOnPage: this.notOnPage, noPage: this.noPage },
    };
  }
}

/** Reads a Yandex Relevance Prediction Challenge log (see the top of this file), streaming its lines. */
export async function readYandexRelPredLog(path: string, options: YandexReadOptions = {}): Promise<YandexClickLog> {
  const progress = options.progress ?? silentProgress;
  await refuseFolderInput(path);
  progress.start(`reading ${path}`, (await stat(path)).size);
  const parser = new YandexParser(path, options.unmatchedClicks ?? 'drop', progress);
  await forEachLine(path, parser);
  progress.finish();
  return parser.finish();
}
