import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../core/files.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress, type Progress } from '../core/progress.js';
import { readActionDistribution, writeActionDistributionNpy } from '../data/action-dist.js';
import { isPartitionedLog, LogEngine } from '../data/engine.js';
import { loadOpenBanditPriors, OPEN_BANDIT_POSITIONS, openBanditRowBatches, readOpenBanditLog, type OpenBanditCampaign, type OpenBanditPolicy } from '../data/open-bandit.js';
import { estimateOnOpenBanditStream, type StreamedPolicy } from '../studies/ope/streamed-log.js';
import type { SlateClickModel } from '../simulation/slate-world.js';
import { formatComparisonTable, runEstimatorComparison } from '../studies/ope/estimator-comparison.js';
import { estimateOnOpenBanditLog, formatOpeTable, policyActionDistribution, roundActionDistribution, runOpenBanditProtocol } from '../studies/ope/open-bandit-protocol.js';
import { mean } from '../evaluation/statistics.js';
import { guardOutput, namingFlags } from './checks.js';
import { choice, count, flag, num, numbers, quietOption, seedOption, text, withOptions } from './options.js';

interface OpeArgs {
  protocol: 'obd' | 'simulated';
  log?: string;
  stream: boolean;
  batchRows: number;
  rewardModel: boolean;
  slates: boolean;
  actionDist?: string;
  exportActionDist?: string;
  randomLog?: string;
  btsLog?: string;
  policy: 'uniform' | 'bts';
  prior?: string;
  truthLog?: string;
  campaign: OpenBanditCampaign;
  evaluate: OpenBanditPolicy;
  draws: number;
  btsActionDist: 'prior' | 'empirical';
  resamples: number;
  level: number;
  lambda?: number;
  folds: number;
  seed: number;
  clickModel: SlateClickModel;
  sizes: number[];
  seeds: number;
  out: string;
  quiet: boolean;
}

/**
 * Per-item Beta priors from a JSON file `{"alpha": [...], "beta": [...]}`, or one holding them per
 * campaign (`{"men": {"alpha", "beta"}, ...}`, as the shipped datasets/open-bandit/prior-bts.json).
 */
async function readPriors(file: string, campaign: string): Promise<{ alpha: Float64Array; beta: Float64Array }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('--prior', `expected a JSON file {"alpha": [...], "beta": [...]} at ${file}, found ${(error as Error).message}`);
  }
  const perCampaign = (json ?? {}) as Record<string, unknown>;
  if (perCampaign.alpha === undefined && typeof perCampaign[campaign] === 'object') json = perCampaign[campaign];
  const { alpha, beta } = (json ?? {}) as { alpha?: unknown; beta?: unknown };
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && x > 0);
  if (!numbers(alpha) || !numbers(beta) || alpha.length !== beta.length) {
    throw new ConfigError('--prior', `expected ${file} to hold "alpha" and "beta" (at the top, or under "${campaign}"), arrays of positive numbers of the same length (one per item)`);
  }
  return { alpha: Float64Array.from(alpha), beta: Float64Array.from(beta) };
}

export const opeCommand = {
  command: 'ope',
  describe: 'Off-policy evaluation: every estimator with bootstrap intervals, on the Open Bandit protocol, on an Open Bandit-format log, or compared on simulated logs with known truth',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      protocol: choice(
        ['obd', 'simulated'] as const,
        'obd',
        'obd: the Open Bandit protocol on the shipped sample (or --random-log/--bts-log); simulated: bias/variance/MSE of every estimator over seeds (ignored with --log)',
      ),
      log: text(undefined, 'an Open Bandit-format log (.csv or .csv.gz) to evaluate --policy on, or a folder or glob of them (streamed)'),
      stream: flag(
        'with --log: stream the log a batch of rows at a time (a folder or glob always streams): every estimator with Poisson-bootstrap intervals, memory independent of its length; the reward model of DM and the DR family takes a pass per Newton step (docs/streaming.md)',
      ),
      'reward-model': {
        type: 'boolean',
        default: true,
        describe: 'streamed log: DM and the DR family, fitting the reward model over the stream (--no-reward-model: one pass, IPW, clipped IPW and SNIPW only)',
      },
      slates: flag("streamed log: also the six slate estimators (SIPS, IIPS, RIPS and their self-normalised kin) on the log's slates (rows with one timestamp; docs/streaming.md)"),
      'batch-rows': count(8192, 'streamed log: rows per batch (the results do not depend on it)'),
      policy: choice(['uniform', 'bts'] as const, 'bts', 'with --log: the evaluation policy (bts: Bernoulli TS from --prior, by Monte Carlo)'),
      'action-dist': text(
        undefined,
        "with --log or --protocol obd: the evaluation policy's action distribution from a file instead of --policy/--evaluate's: .npy (float64/float32, shape (rounds, actions, positions) of the log, OBP's action_dist) or .parquet (columns round, action, position (0-based), prob)",
      ),
      'export-action-dist': text(
        undefined,
        "with --log or --protocol obd: also write the action distribution evaluated (one per row of the log it is evaluated on) to this .npy file (float64, rounds × actions × positions, OBP's layout)",
      ),
      'random-log': text(undefined, "obd: the campaign's uniform-random log (Open Bandit CSV, plain or gzip) instead of the shipped sample; with --bts-log"),
      'bts-log': text(undefined, "obd: the campaign's Bernoulli TS log instead of the shipped sample; with --random-log"),
      prior: text(
        undefined,
        'with --policy bts (--log) or evaluating bts (obd): a JSON file {"alpha": [...], "beta": [...]}, or with them under the --campaign name (default: the shipped ZOZOTOWN priors of --campaign)',
      ),
      'truth-log': text(undefined, "with --log: the evaluated policy's own log; its CTR is the ground truth for relative errors"),
      campaign: choice(['men', 'women'] as const, 'men'),
      evaluate: choice(['bts', 'random'] as const, 'bts', 'obd: the evaluated policy (bts from the random log, or random from the bts log)'),
      'bts-action-dist': choice(
        ['prior', 'empirical'] as const,
        'prior',
        "obd, evaluating bts: its action distribution by Monte Carlo from OBP's priors, or each item's frequency per position in the BTS log",
      ),
      draws: count(100_000, "Monte Carlo draws of Bernoulli TS's slate for its action distribution"),
      resamples: count(10_000, 'bootstrap resamples per estimator'),
      level: num(0.95, 'confidence level of the intervals'),
      lambda: num(undefined, 'λ of clipped IPW, Switch-DR and DRos (default 10 on logs, 3 simulated)'),
      folds: count(3, 'cross-fitting folds of the reward model'),
      seed: seedOption(),
      'click-model': choice(['pbm', 'cascade'] as const, 'pbm', 'simulated: the click model of the slate world'),
      sizes: numbers([500, 5000], 'simulated: log sizes in slates'),
      seeds: count(50, 'simulated: replicates per size'),
      out: text(path.join('runs', 'ope'), 'folder for results.json'),
      quiet: quietOption(),
    }) as unknown as Argv<OpeArgs>,
  handler: async (args: ArgumentsCamelCase<OpeArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    const started = Date.now();
    const inputs: [string, string | undefined][] = [
      ['--log', args.log],
      ['--prior', args.prior],
      ['--truth-log', args.truthLog],
      ['--action-dist', args.actionDist],
      ['--random-log', args.randomLog],
      ['--bts-log', args.btsLog],
    ];
    guardOutput(args.out, { kind: 'folder', writes: ['results.json'], inputs });
    if (args.exportActionDist !== undefined) {
      if (args.log === undefined && args.protocol !== 'obd')
        throw new ConfigError('--export-action-dist', 'expected --log or --protocol obd (the action distribution exported is the one evaluated on the log)');
      guardOutput(args.exportActionDist, { kind: 'file', option: '--export-action-dist', inputs });
    }
    // Every option is checked by the work itself: the folder is created only once it succeeded.
    const { text, result, warnings } = await namingFlags(OPE_FLAGS, () => evaluate(args, progress));
    // One line per estimator that one round dominates (README, "Guarantees": the rule and its threshold).
    for (const warning of warnings) process.stderr.write(`clicklab: warning: ${warning}\n`);
    mkdirSync(args.out, { recursive: true });
    const file = path.join(args.out, 'results.json');
    writeFileAtomic(file, `${JSON.stringify({ command: process.argv.slice(2), result }, null, 2)}\n`);
    process.stdout.write(`${text}\n\nwall time ${((Date.now() - started) / 1000).toFixed(1)} s; ${file}\n`);
  },
};

/** The fields of the OPE studies as the flags that set them, for their error messages. */
const OPE_FLAGS = {
  sampleSizes: '--sizes',
  seeds: '--seeds',
  worldSeed: '--seed',
  level: '--level',
  resamples: '--resamples',
  folds: '--folds',
  lambda: '--lambda',
  draws: '--draws',
  clickModel: '--click-model',
  evaluate: '--evaluate',
  campaign: '--campaign',
  randomLog: '--random-log',
  btsLog: '--bts-log',
  prior: '--prior',
  actionDist: '--action-dist',
};

/** What the flags ask for, nothing written yet: the table as text, and the result for results.json. */
async function evaluate(args: OpeArgs, progress: Progress): Promise<{ text: string; result: unknown; warnings: string[] }> {
  let text: string;
  let result: unknown;
  const warnings: string[] = [];
  if (args.log !== undefined) {
    if (args.randomLog !== undefined || args.btsLog !== undefined) throw new ConfigError(args.randomLog !== undefined ? '--random-log' : '--bts-log', 'expected with --protocol obd, not with --log');
    if (args.stream || isPartitionedLog(args.log)) return evaluateStreamed(args as OpeArgs & { log: string }, progress);
    if (args.slates) throw new ConfigError('--slates', 'expected a streamed log (--stream, a folder or a glob): the slate estimators on an Open Bandit log are streamed only');
    if (!args.rewardModel) throw new ConfigError('--no-reward-model', 'expected a streamed log (--stream, a folder or a glob): a log read into memory always fits the reward model');
    const log = await readOpenBanditLog(args.log);
    const shape = { rounds: log.reward.length, actions: log.numItems, positions: log.numPositions };
    let dist: Float64Array;
    if (args.actionDist !== undefined) {
      dist = await readActionDistribution(args.actionDist, shape);
    } else {
      const priors = args.policy === 'bts' ? (args.prior !== undefined ? await readPriors(args.prior, args.campaign) : await loadOpenBanditPriors(args.campaign)) : null;
      dist = policyActionDistribution(log, priors ? { ...priors, field: '--prior', source: args.log } : 'uniform', args.draws, args.seed);
    }
    const actionDist = roundActionDistribution(dist, shape.rounds, shape.actions, shape.positions, args.log);
    if (args.exportActionDist !== undefined) writeActionDistributionNpy(args.exportActionDist, shape, actionDist.values);
    const policy = args.actionDist === undefined ? args.policy : args.actionDist;
    const groundTruth = args.truthLog === undefined ? undefined : mean((await readOpenBanditLog(args.truthLog)).reward);
    progress.start('estimators', 8);
    const table = estimateOnOpenBanditLog(log, actionDist.values, {
      resamples: args.resamples,
      level: args.level,
      lambda: args.lambda,
      folds: args.folds,
      seed: args.seed,
      groundTruth,
      onEstimator: (done, _, name) => progress.update(done, name),
    });
    progress.finish();
    for (const row of table) if (row.warning !== null) warnings.push(row.warning);
    result = { log: args.log, policy, actionDist: args.actionDist ?? null, rows: log.reward.length, loggingValue: mean(log.reward), groundTruth: groundTruth ?? null, table };
    text = `${policy} evaluated on ${args.log} (${log.reward.length} rows, logged CTR ${mean(log.reward).toFixed(5)}${groundTruth === undefined ? '' : `, ground truth ${groundTruth.toFixed(5)}`})\n\n${formatOpeTable(table, args.level)}`;
  } else if (args.protocol === 'obd') {
    progress.start('estimators', 8);
    const r = await runOpenBanditProtocol({
      onEstimator: (done, _, name) => progress.update(done, name),
      campaign: args.campaign,
      evaluate: args.evaluate,
      randomLog: args.randomLog,
      btsLog: args.btsLog,
      priors: args.prior === undefined ? undefined : { ...(await readPriors(args.prior, args.campaign)), source: args.prior },
      actionDistFile: args.actionDist,
      onActionDist:
        args.exportActionDist === undefined
          ? undefined
          : (d) => writeActionDistributionNpy(args.exportActionDist!, { rounds: d.values.length / (d.numActions * d.numPositions), actions: d.numActions, positions: d.numPositions }, d.values),
      btsActionDist: args.btsActionDist,
      draws: args.draws,
      resamples: args.resamples,
      level: args.level,
      lambda: args.lambda,
      folds: args.folds,
      seed: args.seed,
    });
    progress.finish();
    for (const row of r.table) if (row.warning !== null) warnings.push(row.warning);
    result = r;
    const logs = args.randomLog === undefined ? '' : ` ${r.loggingLog}`;
    text = `Open Bandit protocol, ${r.campaign}: ${r.evaluated} (action distribution: ${r.actionDist === 'file' ? args.actionDist : r.actionDist}) evaluated on the ${r.logging} log${logs} (${r.rows} rows, ${r.clicks} clicks); on-policy CTR of ${r.evaluated} ${r.groundTruth.toFixed(5)}, of ${r.logging} ${r.loggingValue.toFixed(5)}\n\n${formatOpeTable(r.table, r.level)}`;
  } else {
    const total = args.sizes.length * args.seeds;
    progress.start('replicates', total);
    const r = runEstimatorComparison({
      world: { clickModel: args.clickModel },
      worldSeed: args.seed,
      sampleSizes: args.sizes,
      seeds: args.seeds,
      lambda: args.lambda,
      folds: args.folds,
      onReplicate: (done) => progress.update(done),
    });
    progress.finish();
    result = r;
    text = `Simulated slate world (${args.clickModel}): true value of the evaluation policy ${r.truth.toFixed(5)} per slot, of the logging policy ${r.loggingValue.toFixed(5)}; ${args.seeds} logs per size\n\n${formatComparisonTable(r)}`;
  }
  return { text, result, warnings };
}

/** `ope --log` on a streamed log (studies/ope/streamed-log.ts): the estimators with Poisson-bootstrap intervals. */
async function evaluateStreamed(args: OpeArgs & { log: string }, progress: Progress): Promise<{ text: string; result: unknown; warnings: string[] }> {
  if (args.randomLog !== undefined || args.btsLog !== undefined) throw new ConfigError(args.randomLog !== undefined ? '--random-log' : '--bts-log', 'expected with --protocol obd, not with --log');
  if (args.exportActionDist !== undefined) {
    throw new ConfigError('--export-action-dist', 'expected a log read into memory: a streamed log (--stream, a folder or a glob) is too large to write its rounds × actions × positions array');
  }
  const engine = await LogEngine.open({ threads: 1, memoryLimit: '256MB' });
  let files: string[];
  try {
    files = await engine.files(args.log);
  } finally {
    engine.close();
  }
  const priors = args.actionDist === undefined && args.policy === 'bts' ? (args.prior !== undefined ? await readPriors(args.prior, args.campaign) : await loadOpenBanditPriors(args.campaign)) : null;
  const policy: StreamedPolicy =
    args.actionDist !== undefined
      ? { file: args.actionDist }
      : {
          perItemPosition: (numItems) =>
            policyActionDistribution({ numItems, numPositions: OPEN_BANDIT_POSITIONS }, priors ? { ...priors, field: '--prior', source: args.log } : 'uniform', args.draws, args.seed),
        };
  let groundTruth: number | undefined;
  if (args.truthLog !== undefined) {
    let sum = 0;
    let rows = 0;
    for await (const batch of openBanditRowBatches(args.truthLog, args.batchRows)) {
      for (let i = 0; i < batch.reward.length; i++) sum += batch.reward[i];
      rows += batch.reward.length;
    }
    groundTruth = sum / rows;
  }
  const r = await estimateOnOpenBanditStream(files, policy, {
    resamples: args.resamples,
    level: args.level,
    lambda: args.lambda,
    seed: args.seed,
    batchRows: args.batchRows,
    rewardModel: args.rewardModel,
    folds: args.folds,
    slates: args.slates,
    groundTruth,
    progress,
  });
  const name = args.actionDist ?? args.policy;
  const loggingValue = r.clicks / r.rows;
  const warnings = r.table.flatMap((row) => (row.warning === null ? [] : [row.warning]));
  const result = {
    log: args.log,
    files: files.length,
    streamed: { batchRows: args.batchRows, bootstrap: 'poisson', passes: r.passes, rewardModelIterations: r.rewardModelIterations, slates: r.slates },
    policy: name,
    actionDist: args.actionDist ?? null,
    rows: r.rows,
    loggingValue,
    groundTruth: groundTruth ?? null,
    table: r.table,
  };
  const text =
    `${name} evaluated on ${args.log} (streamed: ${files.length} file${files.length === 1 ? '' : 's'}, ${r.rows} rows, logged CTR ${loggingValue.toFixed(5)}${groundTruth === undefined ? '' : `, ground truth ${groundTruth.toFixed(5)}`}); ` +
    `Poisson-bootstrap intervals; ${r.passes} pass${r.passes === 1 ? '' : 'es'} over the log${r.rewardModelIterations.length === 0 ? ' (no reward model: --no-reward-model)' : ` (reward model: ${r.rewardModelIterations.join(', ')} Newton steps per fold)`}${r.slates === null ? '' : `; ${r.slates} slates`}\n\n${formatOpeTable(r.table, args.level)}`;
  return { text, result, warnings };
}
