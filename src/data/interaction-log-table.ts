/**
 * Recommender interaction logs (users × items implicit feedback) as arquero tables, one row per
 * logged (user, item) pair:
 *
 *     user_id  item_id  click  [pscore]  [truth_exposure_probability  truth_preference_probability]
 *
 * As for click logs (click-log-table.ts), the table is the on-disk schema: interaction-log-io.ts
 * writes exactly these columns, which `INTERACTION_LOG` below describes to the shared readers and
 * writers. `pscore` is the probability θ_ui that the item was shown to the user (the exposure
 * propensity that IPS-style recommenders such as Rel-MF divide by), when a learner is given it;
 * `truth_*` are what only the simulator knows, written and read only when asked for.
 * On reading, `user` and `item` are accepted for the ids and `reward` (the Open Bandit Pipeline's
 * name) for `click`.
 *
 * Ids are any integers in [0, 2^31 − 1], in any order, as long as each user's rows are contiguous:
 * that is the shape `simulateInteractions` writes (rows grouped by user) and what learners that
 * batch by user rely on.
 */
import type { ColumnTable } from 'arquero';
import { checkAligned, checkClickAndPropensity, ColumnLookup, KeyRuns, logFromTable, logToTable, RowBuilder, writeFail } from './log-schema.js';
import type { ColumnData, LogColumn, LogSchema, RowColumns, RowNumbering } from './log-schema.js';
import { formatFloat32 } from './text-format.js';

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

/** @internal An interaction-log builder's row columns. */
interface InteractionRows extends RowColumns {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly click: Uint8Array;
  readonly exposureProbability?: Float32Array;
  readonly preferenceProbability?: Float32Array;
}

/**
 * @internal Validates interaction-log rows one at a time: integer ids in [0, 2^31 − 1], clicks 0 or
 * 1, propensities in (0, 1], truth probabilities in [0, 1], and each user's rows contiguous.
 */
class InteractionLogBuilder extends RowBuilder<LoggedInteractions, InteractionRows> {
  /** Runs of one user, for the contiguity check and its message. */
  private readonly users = new KeyRuns();

  constructor(
    private readonly names: InteractionLogColumnNames,
    at: RowNumbering,
    expectedRows = 1024,
  ) {
    const truth = names.truth !== null;
    super(at, names.pscore, expectedRows, (n) => ({
      user: new Int32Array(n),
      item: new Int32Array(n),
      click: new Uint8Array(n),
      ...(names.pscore !== null && { pscore: new Float32Array(n) }),
      ...(truth && { exposureProbability: new Float32Array(n), preferenceProbability: new Float32Array(n) }),
    }));
  }

  /** Values by role: user, item, click, pscore, then the two truth values. */
  add(v: Float64Array): void {
    const { names, users } = this;
    const user = v[0];
    this.checkIndex(user, names.user, 0);
    this.checkIndex(v[1], names.item, 0);
    this.checkFlag(v[2], names.click);
    if (users.count === 0 || user !== users.keys[users.count - 1]) this.startRun(user);

    const row = this.rows;
    const c = this.reserveRow(row);
    c.user[row] = user;
    c.item[row] = v[1];
    c.click[row] = v[2];
    this.addPscore(c.pscore, row, v[3]);
    if (names.truth !== null) {
      this.checkProbability(v[4], names.truth[0]);
      this.checkProbability(v[5], names.truth[1]);
      c.exposureProbability![row] = v[4];
      c.preferenceProbability![row] = v[5];
    }
    this.rows = row + 1;
  }

  finish(): LoggedInteractions {
    const { user, item, click, pscore: propensity, exposureProbability, preferenceProbability } = this.trimmedColumns();
    const truth: LoggedInteractions['truth'] = this.names.truth === null ? undefined : { exposureProbability: exposureProbability!, preferenceProbability: preferenceProbability! };
    return { log: { user, item, click }, ...(propensity && { propensity }), ...(truth && { truth }) };
  }

  private startRun(user: number): void {
    const earlier = this.users.earlier(user);
    if (earlier >= 0) {
      this.fail(`expected the rows of a user to be contiguous, found user ${user} again after other users (its rows began on ${this.rowName(this.users.starts[earlier])})`);
    }
    this.users.open(user, this.rows);
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
  const fail = writeFail('interaction log');
  if (log.item.length !== rows || log.click.length !== rows) {
    fail(`expected item and click of length ${rows} (the rows of user), found ${log.item.length} and ${log.click.length}`);
  }
  const t = logged.truth;
  checkAligned(rows, propensity, truth ? t && [t.exposureProbability, t.preferenceProbability] : null, fail);
  for (let row = 0; truth && row < rows; row++) {
    const e = t!.exposureProbability[row];
    const p = t!.preferenceProbability[row];
    if (!(e >= 0 && e <= 1 && p >= 0 && p <= 1)) fail(`expected truth probabilities in [0, 1] at row ${row}, found ${e} and ${p}`);
  }
  let runs = 0;
  for (let row = 0; row < rows; row++) {
    if (log.user[row] < 0 || log.item[row] < 0) fail(`expected user and item ids ≥ 0 at row ${row}, found ${log.user[row]} and ${log.item[row]}`);
    checkClickAndPropensity(log.click, propensity, row, fail);
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

/** @internal Interaction logs as a `LogSchema`: the roles are user, item, click, pscore and the two truth values. */
export const INTERACTION_LOG: LogSchema<LoggedInteractions, InteractionLogColumnNames> = {
  kind: 'interaction log',
  roles: 6,
  pscoreNames: [INTERACTION_LOG_COLUMNS.pscore],
  resolve: resolveInteractionLogColumns,
  roleNames: (names) => [names.user, names.item, names.click, names.pscore, names.truth?.[0] ?? null, names.truth?.[1] ?? null],
  builder: (names, at, expectedRows) => new InteractionLogBuilder(names, at, expectedRows),
  check: checkLoggedInteractions,
  rows: (logged) => logged.log.user.length,
  sessions: () => 0,

  columns(pscore, truth) {
    const C = INTERACTION_LOG_COLUMNS;
    const columns: LogColumn[] = [
      { name: C.user, type: 'int32' },
      { name: C.item, type: 'int32' },
      { name: C.click, type: 'uint8' },
    ];
    if (pscore) columns.push({ name: C.pscore, type: 'float32' });
    if (truth) columns.push({ name: C.exposureProbability, type: 'float32' }, { name: C.preferenceProbability, type: 'float32' });
    return columns;
  },

  columnData({ log, propensity, truth: t }, _sessionBase, truth) {
    const data: ColumnData[] = [log.user, log.item, log.click];
    if (propensity !== undefined) data.push(propensity);
    if (truth) data.push(t!.exposureProbability, t!.preferenceProbability);
    return data;
  },

  /**
   * θ (propensity and exposure) takes one value per item and repeats on every row of that item, so it
   * goes through the memo; preference probabilities are nearly all distinct, where a memo only costs
   * (about a quarter more time).
   */
  text(logged, _sessionBase, withTruth, { csv, prefixes: p, floats: theta }, from, to) {
    const { log, propensity } = logged;
    const truth = withTruth ? logged.truth! : null;
    let text = '';
    for (let row = from; row < to; row++) {
      if (csv) {
        text += `${log.user[row]},${log.item[row]},${log.click[row]}`;
        if (propensity !== undefined) text += `,${theta.format(propensity[row])}`;
        if (truth !== null) text += `,${theta.format(truth.exposureProbability[row])},${formatFloat32(truth.preferenceProbability[row])}`;
        text += '\n';
      } else {
        text += `${p[0]}${log.user[row]}${p[1]}${log.item[row]}${p[2]}${log.click[row]}`;
        let k = 3;
        if (propensity !== undefined) text += `${p[k++]}${theta.format(propensity[row])}`;
        if (truth !== null) text += `${p[k]}${theta.format(truth.exposureProbability[row])}${p[k + 1]}${formatFloat32(truth.preferenceProbability[row])}`;
        text += '}\n';
      }
    }
    return text;
  },
};

/** The log as an arquero table (see the top of this file). The arrays are shared with the log, not copied. */
export function interactionLogToTable(logged: LoggedInteractions, options: InteractionLogTableOptions = {}): ColumnTable {
  return logToTable(INTERACTION_LOG, logged, options.truth === true);
}

/**
 * An interaction log from a table with the columns above (`user`, `item` and `reward` accepted for
 * `user_id`, `item_id` and `click`), validated as a file is. Truth columns are read only with
 * `truth: true`, and then they must be there.
 */
export function interactionLogFromTable(table: ColumnTable, options: InteractionLogFromTableOptions = {}): LoggedInteractions {
  return logFromTable(INTERACTION_LOG, table, options);
}
