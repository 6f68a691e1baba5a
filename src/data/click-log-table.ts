/**
 * Click logs as arquero tables, one row per displayed slot:
 *
 *     session  query  item_id  position  click  [pscore]  [truth_examination_probability
 *                                                          truth_relevance_probability truth_examined]
 *
 * The table is the on-disk schema (click-log-io.ts writes exactly these columns), so that a table is
 * a file and a file loaded by any tool is a table; `CLICK_LOG` below describes it to the shared
 * readers and writers (log-format.ts). Where the Open Bandit Pipeline has a column of the
 * same meaning its name is used (`item_id`, `position`, `click`, `pscore`), and so is its convention
 * that `position` is 1-based (the Open Bandit Dataset has positions 1–3). In memory (`ClickLog`)
 * positions are 0-based: the conversion happens here, and only here.
 *
 * `session` numbers the sessions 0, 1, 2, ... on writing; on reading any integer ids are accepted as
 * long as each session's rows are contiguous and its positions run 1, 2, 3, ... in order. That is
 * what makes the columnar `ClickLog` (which has no session ids and no gaps) the exact image of a table.
 *
 * The simulator's hidden truth goes out as `truth_*` columns only when asked for, and comes back only
 * when asked for, so that a learner cannot read it by accident.
 */
import type { ColumnTable } from 'arquero';
import { DataFormatError } from '../core/errors.js';
import { MAX_LIST_LENGTH, type ClickLog, type ClickLogTruth } from '../core/types.js';
import { checkAligned, checkClickAndPropensity, ColumnLookup, grown, logFromTable, logToTable, RowBuilder, KeyRuns, trimmed, writeFail } from './log-schema.js';
import type { ColumnData, LogColumn, LogSchema, RowColumns, RowNumbering } from './log-schema.js';
import type { IdVocabulary } from './id-vocabulary.js';
import type { CsvText } from './tokenizer.js';

/** A click log with what a logging policy and a simulator may know about it, aligned row by row. */
export interface LoggedClicks {
  readonly log: ClickLog;
  /** The logging policy's probability of showing each row's item at its position (OBP's `pscore`). */
  readonly propensity?: Float32Array;
  /** What only the simulator knows; kept out of tables and files unless asked for. */
  readonly truth?: ClickLogTruth;
}

export interface ClickLogTableOptions {
  /** Include the hidden `truth_*` columns (default false). */
  readonly truth?: boolean;
}

export interface ClickLogFromTableOptions extends ClickLogTableOptions {
  /** Names the table in error messages (default 'table'). */
  readonly source?: string;
  /** The table's own column names by role, where they are not clicklab's (see `ClickLogColumnMapping`). */
  readonly columns?: ClickLogColumnMapping;
  /** Vocabularies for text query and item ids (see `IdEncoders`); without them ids must be integers. */
  readonly ids?: IdEncoders;
}

/**
 * The column that holds each role in a file that does not use clicklab's names, e.g.
 * `{ query: 'qid', item: 'url', position: 'rank' }`; roles left out keep clicklab's names (and
 * aliases). `session: null` says the file has no session column: a session is then a run of rows
 * that begins at a row with position 1 (each displayed list starts at rank 1), and the usual checks
 * (positions 1, 2, 3, ... and one query per session) apply to the runs so formed.
 */
export interface ClickLogColumnMapping {
  readonly session?: string | null;
  readonly query?: string;
  readonly item?: string;
  readonly position?: string;
  readonly click?: string;
  readonly pscore?: string;
}

/**
 * Text ids for queries and items: each distinct id (a URL, an md5, or a number read as text) gets
 * the next dense index, and the vocabularies keep the id behind each index.
 */
export interface IdEncoders {
  readonly query: IdVocabulary;
  readonly item: IdVocabulary;
}

/** Column names as clicklab writes them. */
export const CLICK_LOG_COLUMNS = {
  session: 'session',
  query: 'query',
  item: 'item_id',
  position: 'position',
  click: 'click',
  pscore: 'pscore',
  examinationProbability: 'truth_examination_probability',
  relevanceProbability: 'truth_relevance_probability',
  examined: 'truth_examined',
} as const;

/** Other names accepted on reading (the Open Bandit Pipeline's), by the name clicklab writes. */
const ALIASES: Readonly<Record<string, string>> = { item_id: 'action', click: 'reward', pscore: 'propensity_score' };

/** The columns a reader found, by role, under the names the file uses. */
export interface ClickLogColumnNames {
  /** null: the file has no session column (sessions begin at position 1, see `ClickLogColumnMapping`). */
  readonly session: string | null;
  readonly query: string;
  readonly item: string;
  readonly position: string;
  readonly click: string;
  readonly pscore: string | null;
  /** The three truth columns, when asked for. */
  readonly truth: readonly [string, string, string] | null;
}

/**
 * Finds the columns of a click log among `available`, accepting the Open Bandit Pipeline's names.
 * Missing required columns, or a column present under both its names, is a `DataFormatError`
 * (with no line: it concerns the header or schema).
 */
export function resolveClickLogColumns(available: readonly string[], file: string, truth: boolean, mapping: ClickLogColumnMapping = {}): ClickLogColumnNames {
  const lookup = new ColumnLookup(available, file, ALIASES);
  const find = (name: string, required: boolean, mapped?: string | null): string | null =>
    mapped === undefined ? lookup.find(name, required) : mapped === null ? null : lookup.findMapped(mapped, name);
  const C = CLICK_LOG_COLUMNS;
  const session = find(C.session, true, mapping.session);
  const query = find(C.query, true, mapping.query);
  const item = find(C.item, true, mapping.item);
  const position = find(C.position, true, mapping.position);
  const click = find(C.click, true, mapping.click);
  const pscore = find(C.pscore, false, mapping.pscore);
  const truthNames = truth ? [find(C.examinationProbability, true), find(C.relevanceProbability, true), find(C.examined, true)] : null;
  lookup.check();
  const used = [session, query, item, position, click, pscore].filter((n): n is string => n !== null);
  const twice = used.find((n, i) => used.indexOf(n) !== i);
  if (twice !== undefined) throw new DataFormatError(file, null, `expected each column to hold one role of the click log, found '${twice}' mapped to two`);
  return {
    session,
    query: query!,
    item: item!,
    position: position!,
    click: click!,
    pscore,
    truth: truthNames === null ? null : [truthNames[0]!, truthNames[1]!, truthNames[2]!],
  };
}

/** @internal A click-log builder's row columns. */
interface ClickRows extends RowColumns {
  readonly document: Int32Array;
  /** 0-based, as in `ClickLog`. */
  readonly position: Uint16Array;
  readonly click: Uint8Array;
  readonly examinationProbability?: Float32Array;
  readonly relevanceProbability?: Float32Array;
  readonly examined?: Uint8Array;
}

/**
 * @internal Validates click-log rows one at a time: values arrive as numbers (readers reject
 * non-numbers themselves); the builder checks that they are integers, in range, and that sessions
 * are contiguous runs with positions 1, 2, 3, ...
 */
class ClickLogBuilder extends RowBuilder<LoggedClicks, ClickRows> {
  /** Sessions by id; their queries alongside. */
  private readonly sessions = new KeyRuns();
  private sessionQuery = new Int32Array(256);

  constructor(
    private readonly names: ClickLogColumnNames,
    at: RowNumbering,
    expectedRows = 1024,
  ) {
    super(at, names.pscore, expectedRows, (n) => ({
      document: new Int32Array(n),
      position: new Uint16Array(n),
      click: new Uint8Array(n),
      ...(names.pscore !== null && { pscore: new Float32Array(n) }),
      ...(names.truth !== null && { examinationProbability: new Float32Array(n), relevanceProbability: new Float32Array(n), examined: new Uint8Array(n) }),
    }));
  }

  /** Values by role: session, query, item, position, click, pscore, then the three truth values. */
  add(v: Float64Array): void {
    const row = this.rows;
    const { names, sessions } = this;
    let session = v[0];
    const query = v[1];
    const item = v[2];
    const position = v[3];
    const click = v[4];
    if (names.session === null) {
      // No session column: a row at position 1 opens a session, any other row continues the current one.
      session = position === 1 || sessions.count === 0 ? sessions.count : sessions.keys[sessions.count - 1];
    } else if (!Number.isSafeInteger(session)) {
      this.fail(`expected an integer in column '${names.session}', found ${session}`);
    }
    this.checkIndex(query, names.query, 0);
    this.checkIndex(item, names.item, 0);
    this.checkIndex(position, names.position, 1);
    if (position > MAX_LIST_LENGTH) this.fail(`expected a position of at most ${MAX_LIST_LENGTH} in column '${names.position}' (sessions show at most that many results), found ${position}`);
    this.checkFlag(click, names.click);

    const s = sessions.count - 1;
    if (s >= 0 && session === sessions.keys[s]) {
      const expected = row - sessions.starts[s] + 1;
      if (position !== expected) {
        this.fail(`expected position ${expected} (the next rank of session ${session}), found ${position}`);
      }
      if (query !== this.sessionQuery[s]) {
        this.fail(`expected query ${this.sessionQuery[s]} in every row of session ${session} (as on ${this.rowName(sessions.starts[s])}), found ${query}`);
      }
    } else {
      if (position !== 1) this.fail(`expected position 1 on the first row of session ${session}, found ${position}`);
      this.startSession(session, query);
    }

    const c = this.reserveRow(row);
    c.document[row] = item;
    c.position[row] = position - 1;
    c.click[row] = click;
    this.addPscore(c.pscore, row, v[5]);
    if (names.truth !== null) {
      const [examinationName, relevanceName, examinedName] = names.truth;
      this.checkProbability(v[6], examinationName);
      this.checkProbability(v[7], relevanceName);
      this.checkFlag(v[8], examinedName);
      c.examinationProbability![row] = v[6];
      c.relevanceProbability![row] = v[7];
      c.examined![row] = v[8];
    }
    this.rows = row + 1;
  }

  finish(): LoggedClicks {
    const { count, starts } = this.sessions;
    const sessionOffsets = new Int32Array(count + 1);
    sessionOffsets.set(starts.subarray(0, count));
    sessionOffsets[count] = this.rows;
    const { document, position, click, pscore: propensity, examinationProbability, relevanceProbability, examined } = this.trimmedColumns();
    const log: ClickLog = { sessionQuery: trimmed(this.sessionQuery, count), sessionOffsets, document, position, click };
    const truth: ClickLogTruth | undefined =
      this.names.truth === null ? undefined : { examinationProbability: examinationProbability!, relevanceProbability: relevanceProbability!, examined: examined! };
    return { log, ...(propensity && { propensity }), ...(truth && { truth }) };
  }

  private startSession(session: number, query: number): void {
    const earlier = this.sessions.earlier(session);
    if (earlier >= 0) {
      this.fail(`expected the rows of a session to be contiguous, found session ${session} again after other sessions (it began on ${this.rowName(this.sessions.starts[earlier])})`);
    }
    const s = this.sessions.open(session, this.rows);
    if (s === this.sessionQuery.length) this.sessionQuery = grown(this.sessionQuery, 2 * s);
    this.sessionQuery[s] = query;
  }
}

/**
 * Checks that an in-memory log can be written and read back as it is: aligned lengths, no empty
 * session (a file has no row to show one), positions 0, 1, 2, ... in each session, clicks 0/1 and
 * propensities in (0, 1]. Writing anything else would make a file that its own reader rejects.
 */
export function checkLoggedClicks(logged: LoggedClicks, truth: boolean): void {
  const { log, propensity } = logged;
  const sessions = log.sessionQuery.length;
  const rows = log.document.length;
  const fail = writeFail('click log');
  if (log.sessionOffsets.length !== sessions + 1 || log.sessionOffsets[0] !== 0 || log.sessionOffsets[sessions] !== rows) {
    const o = log.sessionOffsets;
    fail(`expected sessionOffsets of length ${sessions + 1} running from 0 to ${rows} (the rows of document), found length ${o.length} from ${o[0]} to ${o[o.length - 1]}`);
  }
  if (log.position.length !== rows || log.click.length !== rows) {
    fail(`expected position and click of length ${rows} (the rows of document), found ${log.position.length} and ${log.click.length}`);
  }
  const t = logged.truth;
  checkAligned(rows, propensity, truth ? t && [t.examinationProbability, t.relevanceProbability, t.examined] : null, fail);
  if (truth) {
    for (let row = 0; row < rows; row++) {
      const e = t!.examinationProbability[row];
      const r = t!.relevanceProbability[row];
      if (!(e >= 0 && e <= 1 && r >= 0 && r <= 1) || t!.examined[row] > 1) {
        fail(`expected truth probabilities in [0, 1] and examined 0 or 1 at row ${row}, found ${e}, ${r} and ${t!.examined[row]}`);
      }
    }
  }
  for (let s = 0; s < sessions; s++) {
    const start = log.sessionOffsets[s];
    const end = log.sessionOffsets[s + 1];
    if (end <= start) fail(`session ${s} has no rows`);
    for (let row = start; row < end; row++) {
      if (log.position[row] !== row - start) fail(`expected position ${row - start} at row ${row} (session ${s}), found ${log.position[row]}`);
      checkClickAndPropensity(log.click, propensity, row, fail);
    }
  }
}

/** The session number (counted from `sessionBase`) and query of every row: the columns a file repeats per row. */
function expandSessions(log: ClickLog, sessionBase: number): { session: Int32Array; query: Int32Array } {
  const rows = log.document.length;
  const session = new Int32Array(rows);
  const query = new Int32Array(rows);
  for (let s = 0; s < log.sessionQuery.length; s++) {
    const start = log.sessionOffsets[s];
    const end = log.sessionOffsets[s + 1];
    session.fill(sessionBase + s, start, end);
    query.fill(log.sessionQuery[s], start, end);
  }
  return { session, query };
}

/** 1-based positions, as tables and files hold them. */
function onDiskPositions(log: ClickLog): Int32Array {
  const position = new Int32Array(log.position.length);
  for (let i = 0; i < position.length; i++) position[i] = log.position[i] + 1;
  return position;
}

/** The session of row `row`: the last s with offsets[s] ≤ row (sessions are never empty in a log to write). */
function sessionOf(offsets: Int32Array, row: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid] <= row) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** @internal Click logs as a `LogSchema`: the roles are session, query, item, position, click, pscore and the three truth values. */
export const CLICK_LOG: LogSchema<LoggedClicks, ClickLogColumnNames, ClickLogColumnMapping> = {
  kind: 'click log',
  roles: 9,
  pscoreNames: [CLICK_LOG_COLUMNS.pscore, ALIASES[CLICK_LOG_COLUMNS.pscore]],
  resolve: resolveClickLogColumns,
  roleNames(names) {
    const t = names.truth;
    return [names.session, names.query, names.item, names.position, names.click, names.pscore, t?.[0] ?? null, t?.[1] ?? null, t?.[2] ?? null];
  },
  builder: (names, at, expectedRows) => new ClickLogBuilder(names, at, expectedRows),
  check: checkLoggedClicks,
  rows: (logged) => logged.log.document.length,
  sessions: (logged) => logged.log.sessionQuery.length,

  columns(pscore, truth) {
    const C = CLICK_LOG_COLUMNS;
    const int = (name: string): LogColumn => ({ name, type: 'int32' });
    const columns: LogColumn[] = [int(C.session), int(C.query), int(C.item), int(C.position), { name: C.click, type: 'uint8' }];
    if (pscore) columns.push({ name: C.pscore, type: 'float32' });
    if (truth) columns.push({ name: C.examinationProbability, type: 'float32' }, { name: C.relevanceProbability, type: 'float32' }, { name: C.examined, type: 'uint8' });
    return columns;
  },

  columnData(logged, sessionBase, truth) {
    const { log, propensity } = logged;
    const { session, query } = expandSessions(log, sessionBase);
    const data: ColumnData[] = [session, query, log.document, onDiskPositions(log), log.click];
    if (propensity !== undefined) data.push(propensity);
    if (truth) {
      const t = logged.truth!;
      data.push(t.examinationProbability, t.relevanceProbability, t.examined);
    }
    return data;
  },

  text(logged, sessionBase, withTruth, { csv, prefixes: p, floats: f }, from, to) {
    const { log, propensity } = logged;
    const truth = withTruth ? logged.truth! : null;
    const offsets = log.sessionOffsets;
    let text = '';
    for (let s = sessionOf(offsets, from), row = from; row < to; s++) {
      const session = sessionBase + s;
      const query = log.sessionQuery[s];
      for (const end = Math.min(to, offsets[s + 1]); row < end; row++) {
        const position = log.position[row] + 1;
        if (csv) {
          text += `${session},${query},${log.document[row]},${position},${log.click[row]}`;
          if (propensity !== undefined) text += `,${f.format(propensity[row])}`;
          if (truth !== null) {
            text += `,${f.format(truth.examinationProbability[row])},${f.format(truth.relevanceProbability[row])},${truth.examined[row]}`;
          }
          text += '\n';
        } else {
          text += `${p[0]}${session}${p[1]}${query}${p[2]}${log.document[row]}${p[3]}${position}${p[4]}${log.click[row]}`;
          let k = 5;
          if (propensity !== undefined) text += `${p[k++]}${f.format(propensity[row])}`;
          if (truth !== null) {
            text += `${p[k]}${f.format(truth.examinationProbability[row])}${p[k + 1]}${f.format(truth.relevanceProbability[row])}${p[k + 2]}${truth.examined[row]}`;
          }
          text += '}\n';
        }
      }
    }
    return text;
  },
};

/**
 * The log as an arquero table (see the top of this file for the columns). The item, click,
 * propensity and truth arrays are shared with the log, not copied.
 */
export function clickLogToTable(logged: LoggedClicks, options: ClickLogTableOptions = {}): ColumnTable {
  return logToTable(CLICK_LOG, logged, options.truth === true);
}

/** @internal Encoders by role (query and item) for `IdEncoders`. */
export function clickLogIds(ids: IdEncoders | null | undefined): CsvText | null {
  return ids ? [null, ids.query, ids.item] : null;
}

/**
 * A click log from a table with the columns above (the Open Bandit Pipeline's `action`, `reward`
 * and `propensity_score` are accepted for `item_id`, `click` and `pscore`), validated as a file is.
 * Truth columns are read only with `truth: true`, and then they must be there.
 */
export function clickLogFromTable(table: ColumnTable, options: ClickLogFromTableOptions = {}): LoggedClicks {
  return logFromTable(CLICK_LOG, table, { ...options, ids: clickLogIds(options.ids) });
}
