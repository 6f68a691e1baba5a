/**
 * Recommender interaction logs (users × items implicit feedback) as arquero tables, one row per
 * logged (user, item) pair:
 *
 *     user_id  item_id  click  [pscore]  [truth_exposure_probability  truth_preference_probability]
 *
 * As for click logs (click-log-table.ts), the table is the on-disk schema: interaction-log-io.ts
 * writes exactly these columns. `pscore` is the probability θ_ui that the item was shown to the
 * user (the exposure propensity that IPS-style recommenders such as Rel-MF divide by), when a learner
 * is given it; `truth_*` are what only the simulator knows, written and read only when asked for.
 * On reading, `user` and `item` are accepted for the ids and `reward` (the Open Bandit Pipeline's
 * name) for `click`.
 *
 * Ids are any integers in [0, 2^31 − 1], in any order, as long as each user's rows are contiguous:
 * that is the shape `simulateInteractions` writes (rows grouped by user) and what learners that
 * batch by user rely on.
 */
import { table as makeTable, type ColumnTable } from 'arquero';
import {
  ColumnLookup,
  columnNumber,
  grown,
  rowError,
  rowName,
  tableColumn,
  trimmed,
  type ColumnValues,
  type RowNumbering,
} from './click-log-table.js';

/**
 * An interaction log with what a learner may be given and what only a simulator knows, aligned row
 * by row. `log` and `truth` have the shapes of the simulator's `InteractionLog` and `InteractionTruth`
 * (spelled out here because data/ depends on core/ only), so `simulateInteractions`' result fits.
 */
export interface LoggedInteractions {
  readonly log: { readonly user: Int32Array; readonly item: Int32Array; readonly click: Uint8Array };
  /** θ_ui, the probability that the row's item was shown to the user, as a learner may be given it. */
  readonly propensity?: Float32Array;
  /** What only the simulator knows; kept out of tables and files unless asked for. */
  readonly truth?: { readonly exposureProbability: Float32Array; readonly preferenceProbability: Float32Array };
}

export interface InteractionLogTableOptions {
  /** Include the hidden `truth_*` columns (default false). */
  readonly truth?: boolean;
}

export interface InteractionLogFromTableOptions extends InteractionLogTableOptions {
  /** Names the table in error messages (default 'table'). */
  readonly source?: string;
}

/** Column names as clicklab writes them. */
export const INTERACTION_LOG_COLUMNS = {
  user: 'user_id',
  item: 'item_id',
  click: 'click',
  pscore: 'pscore',
  exposureProbability: 'truth_exposure_probability',
  preferenceProbability: 'truth_preference_probability',
} as const;

/** Other names accepted on reading, by the name clicklab writes. */
const ALIASES: Readonly<Record<string, string>> = { user_id: 'user', item_id: 'item', click: 'reward' };

/** @internal The columns a reader found, by role, under the names the file uses. */
export interface InteractionLogColumnNames {
  readonly user: string;
  readonly item: string;
  readonly click: string;
  readonly pscore: string | null;
  /** The two truth columns, when asked for. */
  readonly truth: readonly [string, string] | null;
}

/**
 * @internal Finds the columns of an interaction log among `available` (accepting `user`, `item` and
 * `reward`). Missing required columns, or a column present under both its names, is a
 * `DataFormatError` listing the columns there are.
 */
export function resolveInteractionLogColumns(available: readonly string[], file: string, truth: boolean): InteractionLogColumnNames {
  const lookup = new ColumnLookup(available, file, ALIASES);
  const C = INTERACTION_LOG_COLUMNS;
  const user = lookup.find(C.user, true);
  const item = lookup.find(C.item, true);
  const click = lookup.find(C.click, true);
  const pscore = lookup.find(C.pscore, false);
  const exposure = truth ? lookup.find(C.exposureProbability, true) : null;
  const preference = truth ? lookup.find(C.preferenceProbability, true) : null;
  lookup.check();
  return { user: user!, item: item!, click: click!, pscore, truth: truth ? [exposure!, preference!] : null };
}

/** @internal The names by role, in the order `InteractionLogBuilder.add` takes its values. */
export function interactionRoleNames(names: InteractionLogColumnNames): (string | null)[] {
  return [names.user, names.item, names.click, names.pscore, names.truth?.[0] ?? null, names.truth?.[1] ?? null];
}

/** @internal The number of values `InteractionLogBuilder.add` takes. */
export const INTERACTION_ROLES = 6;

const INT32_MAX = 0x7fffffff;

/**
 * @internal Validates rows one at a time, in file order, and assembles them into columns. Every
 * reader feeds it, so every format enforces the same rules with the same messages: integer ids in
 * [0, 2^31 − 1], clicks 0 or 1, propensities in (0, 1], truth probabilities in [0, 1], and each
 * user's rows contiguous.
 */
export class InteractionLogBuilder {
  private rows = 0;
  private capacity: number;
  private user: Int32Array;
  private item: Int32Array;
  private click: Uint8Array;
  private pscore: Float32Array | null;
  private exposureProbability: Float32Array | null;
  private preferenceProbability: Float32Array | null;

  /** Runs of one user, for the contiguity check and its message. */
  private runs = 0;
  private runUser = new Int32Array(256);
  private runStart = new Int32Array(256);
  private maxUser = -1;
  /**
   * User → run index, built only once a user comes that is not larger than every user before it:
   * files whose users increase (all that clicklab simulates) never pay for the map.
   */
  private seen: Map<number, number> | null = null;

  constructor(
    private readonly names: InteractionLogColumnNames,
    private readonly at: RowNumbering,
    expectedRows = 1024,
  ) {
    const n = Math.max(1, expectedRows);
    this.capacity = n;
    this.user = new Int32Array(n);
    this.item = new Int32Array(n);
    this.click = new Uint8Array(n);
    this.pscore = names.pscore === null ? null : new Float32Array(n);
    this.exposureProbability = names.truth === null ? null : new Float32Array(n);
    this.preferenceProbability = names.truth === null ? null : new Float32Array(n);
  }

  /**
   * Adds one row. `pscore` is read only when the file has that column, the truth values only when
   * truth was asked for (pass NaN otherwise).
   */
  add(user: number, item: number, click: number, pscore: number, exposureProbability: number, preferenceProbability: number): void {
    const { names } = this;
    this.checkId(user, names.user);
    this.checkId(item, names.item);
    if (click !== 0 && click !== 1) this.fail(`expected 0 or 1 in column '${names.click}', found ${click}`);
    if (this.runs === 0 || user !== this.runUser[this.runs - 1]) this.startRun(user);

    const row = this.rows;
    if (row === this.capacity) this.growRows();
    this.user[row] = user;
    this.item[row] = item;
    this.click[row] = click;
    if (this.pscore !== null) {
      // Stored as float32: a positive double can still round to 0, which no estimator can divide by.
      if (!(pscore > 0 && pscore <= 1) || Math.fround(pscore) === 0) {
        this.fail(`expected a propensity in (0, 1] in column '${names.pscore}', found ${pscore}`);
      }
      this.pscore[row] = pscore;
    }
    if (names.truth !== null) {
      const [exposureName, preferenceName] = names.truth;
      if (!(exposureProbability >= 0 && exposureProbability <= 1)) {
        this.fail(`expected a probability in [0, 1] in column '${exposureName}', found ${exposureProbability}`);
      }
      if (!(preferenceProbability >= 0 && preferenceProbability <= 1)) {
        this.fail(`expected a probability in [0, 1] in column '${preferenceName}', found ${preferenceProbability}`);
      }
      this.exposureProbability![row] = exposureProbability;
      this.preferenceProbability![row] = preferenceProbability;
    }
    this.rows = row + 1;
  }

  finish(): LoggedInteractions {
    const rows = this.rows;
    const log: LoggedInteractions['log'] = { user: trimmed(this.user, rows), item: trimmed(this.item, rows), click: trimmed(this.click, rows) };
    const propensity = this.pscore === null ? undefined : trimmed(this.pscore, rows);
    const truth: LoggedInteractions['truth'] =
      this.names.truth === null
        ? undefined
        : { exposureProbability: trimmed(this.exposureProbability!, rows), preferenceProbability: trimmed(this.preferenceProbability!, rows) };
    return { log, ...(propensity && { propensity }), ...(truth && { truth }) };
  }

  fail(problem: string): never {
    throw rowError(this.at, this.rows, problem);
  }

  private checkId(value: number, column: string): void {
    if (!Number.isInteger(value)) this.fail(`expected an integer in column '${column}', found ${value}`);
    if (value < 0 || value > INT32_MAX) this.fail(`expected an integer in [0, ${INT32_MAX}] in column '${column}', found ${value}`);
  }

  private startRun(user: number): void {
    if (this.runs > 0 && user <= this.maxUser) {
      this.seen ??= this.indexRuns();
      const earlier = this.seen.get(user);
      if (earlier !== undefined) {
        this.fail(`expected the rows of a user to be contiguous, found user ${user} again after other users (its rows began on ${rowName(this.at, this.runStart[earlier])})`);
      }
    }
    const r = this.runs;
    if (r === this.runUser.length) {
      this.runUser = grown(this.runUser, 2 * r);
      this.runStart = grown(this.runStart, 2 * r);
    }
    this.runUser[r] = user;
    this.runStart[r] = this.rows;
    this.seen?.set(user, r);
    if (user > this.maxUser) this.maxUser = user;
    this.runs = r + 1;
  }

  private indexRuns(): Map<number, number> {
    const seen = new Map<number, number>();
    for (let r = 0; r < this.runs; r++) seen.set(this.runUser[r], r);
    return seen;
  }

  private growRows(): void {
    if (this.capacity === INT32_MAX) this.fail(`expected at most ${INT32_MAX} rows, found more`);
    const n = Math.min(INT32_MAX, this.capacity * 2);
    this.capacity = n;
    this.user = grown(this.user, n);
    this.item = grown(this.item, n);
    this.click = grown(this.click, n);
    if (this.pscore !== null) this.pscore = grown(this.pscore, n);
    if (this.exposureProbability !== null) this.exposureProbability = grown(this.exposureProbability, n);
    if (this.preferenceProbability !== null) this.preferenceProbability = grown(this.preferenceProbability, n);
  }
}

/**
 * @internal Feeds rows `0 .. count − 1` of columns (a table, an Arrow file, a Parquet row group), in
 * the order of `interactionRoleNames` (null for a role the source lacks), to the builder. Numbers
 * pass as they are, 64-bit integers (bigint) when exactly representable, anything else is an error.
 */
export function addInteractionRows(builder: InteractionLogBuilder, names: InteractionLogColumnNames, columns: readonly (ColumnValues | null)[], count: number): void {
  const fail = (problem: string): never => builder.fail(problem);
  const [user, item, click, pscore, exposure, preference] = columns;
  const [userName, itemName, clickName, pscoreName, exposureName, preferenceName] = interactionRoleNames(names);
  for (let r = 0; r < count; r++) {
    builder.add(
      columnNumber(user!, r, userName!, fail),
      columnNumber(item!, r, itemName!, fail),
      columnNumber(click!, r, clickName!, fail),
      pscore === null ? NaN : columnNumber(pscore, r, pscoreName!, fail),
      exposure === null ? NaN : columnNumber(exposure, r, exposureName!, fail),
      preference === null ? NaN : columnNumber(preference, r, preferenceName!, fail),
    );
  }
}

/**
 * Checks that an in-memory log can be written and read back as it is: aligned lengths, ids ≥ 0,
 * clicks 0/1, propensities in (0, 1], truth probabilities in [0, 1] and each user's rows contiguous.
 * Writing anything else would make a file that its own reader rejects.
 */
export function checkLoggedInteractions(logged: LoggedInteractions, truth: boolean): void {
  const { log, propensity } = logged;
  const rows = log.user.length;
  const fail = (problem: string): never => {
    throw new RangeError(`cannot write the interaction log: ${problem}`);
  };
  if (log.item.length !== rows || log.click.length !== rows) {
    fail(`expected item and click of length ${rows} (the rows of user), found ${log.item.length} and ${log.click.length}`);
  }
  if (propensity !== undefined && propensity.length !== rows) fail(`expected ${rows} propensities, found ${propensity.length}`);
  if (truth) {
    const t = logged.truth;
    if (t === undefined) fail('the truth columns were asked for, but the log has no truth');
    else if (t.exposureProbability.length !== rows || t.preferenceProbability.length !== rows) fail(`expected truth arrays of length ${rows}`);
    else {
      for (let row = 0; row < rows; row++) {
        const e = t.exposureProbability[row];
        const p = t.preferenceProbability[row];
        if (!(e >= 0 && e <= 1 && p >= 0 && p <= 1)) fail(`expected truth probabilities in [0, 1] at row ${row}, found ${e} and ${p}`);
      }
    }
  }
  let runs = 0;
  for (let row = 0; row < rows; row++) {
    if (log.user[row] < 0 || log.item[row] < 0) fail(`expected user and item ids ≥ 0 at row ${row}, found ${log.user[row]} and ${log.item[row]}`);
    if (log.click[row] > 1) fail(`expected a click of 0 or 1 at row ${row}, found ${log.click[row]}`);
    if (propensity !== undefined && !(propensity[row] > 0 && propensity[row] <= 1)) {
      fail(`expected a propensity in (0, 1] at row ${row}, found ${propensity[row]}`);
    }
    if (row === 0 || log.user[row] !== log.user[row - 1]) runs++;
  }
  // Contiguity: the first user of every run, sorted, must have no repeats.
  const runUsers = new Int32Array(runs);
  for (let row = 0, r = 0; row < rows; row++) if (row === 0 || log.user[row] !== log.user[row - 1]) runUsers[r++] = log.user[row];
  runUsers.sort();
  for (let r = 1; r < runs; r++) {
    if (runUsers[r] === runUsers[r - 1]) fail(`expected the rows of each user to be contiguous, found user ${runUsers[r]} in separate runs`);
  }
}

/** The log as an arquero table (see the top of this file). The arrays are shared with the log, not copied. */
export function interactionLogToTable(logged: LoggedInteractions, options: InteractionLogTableOptions = {}): ColumnTable {
  const truth = options.truth === true;
  checkLoggedInteractions(logged, truth);
  const { log } = logged;
  const C = INTERACTION_LOG_COLUMNS;
  const columns: Record<string, ArrayLike<number>> = { [C.user]: log.user, [C.item]: log.item, [C.click]: log.click };
  if (logged.propensity !== undefined) columns[C.pscore] = logged.propensity;
  if (truth) {
    columns[C.exposureProbability] = logged.truth!.exposureProbability;
    columns[C.preferenceProbability] = logged.truth!.preferenceProbability;
  }
  return makeTable(columns);
}

/**
 * An interaction log from a table with the columns above (`user`, `item` and `reward` accepted for
 * `user_id`, `item_id` and `click`), validated as a file is. Truth columns are read only with
 * `truth: true`, and then they must be there.
 */
export function interactionLogFromTable(table: ColumnTable, options: InteractionLogFromTableOptions = {}): LoggedInteractions {
  const at: RowNumbering = { file: options.source ?? 'table', unit: 'row', first: 1 };
  const names = resolveInteractionLogColumns(table.columnNames(), at.file, options.truth === true);
  const rows = table.numRows();
  const builder = new InteractionLogBuilder(names, at, rows);
  const columns = interactionRoleNames(names).map((name) => (name === null ? null : tableColumn(table, name)));
  addInteractionRows(builder, names, columns, rows);
  return builder.finish();
}
