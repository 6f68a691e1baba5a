import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { loadOpenBanditPriors, readOpenBanditLog, type OpenBanditCampaign, type OpenBanditPolicy } from '../data/open-bandit.js';
import type { SlateClickModel } from '../simulation/slate-world.js';
import { formatComparisonTable, runEstimatorComparison } from '../studies/ope/estimator-comparison.js';
import { estimateOnOpenBanditLog, formatOpeTable, policyActionDistribution, runOpenBanditProtocol } from '../studies/ope/open-bandit-protocol.js';
import { mean } from '../evaluation/statistics.js';
import { positiveIntegers } from './checks.js';

interface OpeArgs {
  protocol: 'obd' | 'simulated';
  log?: string;
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
    yargs
      .option('protocol', { choices: ['obd', 'simulated'] as const, default: 'obd' as const, describe: 'obd: the Open Bandit protocol on the shipped sample; simulated: bias/variance/MSE of every estimator over seeds (ignored with --log)' })
      .option('log', { type: 'string', describe: 'an Open Bandit-format log (.csv or .csv.gz) to evaluate --policy on' })
      .option('policy', { choices: ['uniform', 'bts'] as const, default: 'bts' as const, describe: 'with --log: the evaluation policy (bts: Bernoulli TS from --prior, by Monte Carlo)' })
      .option('prior', { type: 'string', describe: 'with --log --policy bts: a JSON file {"alpha": [...], "beta": [...]}, or with them under the --campaign name (default: the shipped ZOZOTOWN priors of --campaign)' })
      .option('truth-log', { type: 'string', describe: "with --log: the evaluated policy's own log; its CTR is the ground truth for relative errors" })
      .option('campaign', { choices: ['men', 'women'] as const, default: 'men' as const })
      .option('evaluate', { choices: ['bts', 'random'] as const, default: 'bts' as const, describe: 'obd: the evaluated policy (bts from the random log, or random from the bts log)' })
      .option('bts-action-dist', { choices: ['prior', 'empirical'] as const, default: 'prior' as const, describe: "obd, evaluating bts: its action distribution by Monte Carlo from OBP's priors, or each item's frequency per position in the BTS log" })
      .option('draws', { type: 'number', default: 100_000, describe: "Monte Carlo draws of Bernoulli TS's slate for its action distribution" })
      .option('resamples', { type: 'number', default: 10_000, describe: 'bootstrap resamples per estimator' })
      .option('level', { type: 'number', default: 0.95, describe: 'confidence level of the intervals' })
      .option('lambda', { type: 'number', describe: 'λ of clipped IPW, Switch-DR and DRos (default 10 on logs, 3 simulated)' })
      .option('folds', { type: 'number', default: 3, describe: 'cross-fitting folds of the reward model' })
      .option('seed', { type: 'number', default: 1 })
      .option('click-model', { choices: ['pbm', 'cascade'] as const, default: 'pbm' as const, describe: 'simulated: the click model of the slate world' })
      .option('sizes', { type: 'number', array: true, default: [500, 5000], describe: 'simulated: log sizes in slates' })
      .option('seeds', { type: 'number', default: 50, describe: 'simulated: replicates per size' })
      .option('out', { type: 'string', default: path.join('runs', 'ope'), describe: 'folder for results.json' })
      .option('quiet', { type: 'boolean', default: false })
      .check((argv) => positiveIntegers(argv, ['draws', 'resamples', 'folds', 'seeds'])) as unknown as Argv<OpeArgs>,
  handler: async (args: ArgumentsCamelCase<OpeArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    const started = Date.now();
    let text: string;
    let result: unknown;
    if (args.log !== undefined) {
      const log = await readOpenBanditLog(args.log);
      const priors = args.policy === 'bts' ? (args.prior !== undefined ? await readPriors(args.prior, args.campaign) : await loadOpenBanditPriors(args.campaign)) : null;
      const perItemPosition = policyActionDistribution(log, priors ? { ...priors, field: '--prior', source: args.log } : 'uniform', args.draws, args.seed);
      const groundTruth = args.truthLog === undefined ? undefined : mean((await readOpenBanditLog(args.truthLog)).reward);
      progress.start('estimators', 8);
      const table = estimateOnOpenBanditLog(log, perItemPosition, { resamples: args.resamples, level: args.level, lambda: args.lambda, folds: args.folds, seed: args.seed, groundTruth, onEstimator: (done, _, name) => progress.update(done, name) });
      progress.finish();
      result = { log: args.log, policy: args.policy, rows: log.reward.length, loggingValue: mean(log.reward), groundTruth: groundTruth ?? null, table };
      text = `${args.policy} evaluated on ${args.log} (${log.reward.length} rows, logged CTR ${mean(log.reward).toFixed(5)}${groundTruth === undefined ? '' : `, ground truth ${groundTruth.toFixed(5)}`})\n\n${formatOpeTable(table, args.level)}`;
    } else if (args.protocol === 'obd') {
      progress.start('estimators', 8);
      const r = await runOpenBanditProtocol({ onEstimator: (done, _, name) => progress.update(done, name), campaign: args.campaign, evaluate: args.evaluate, btsActionDist: args.btsActionDist, draws: args.draws, resamples: args.resamples, level: args.level, lambda: args.lambda, folds: args.folds, seed: args.seed });
      progress.finish();
      result = r;
      text = `Open Bandit protocol, ${r.campaign}: ${r.evaluated} (action distribution: ${r.actionDist}) evaluated on the ${r.logging} log (${r.rows} rows, ${r.clicks} clicks); on-policy CTR of ${r.evaluated} ${r.groundTruth.toFixed(5)}, of ${r.logging} ${r.loggingValue.toFixed(5)}\n\n${formatOpeTable(r.table, r.level)}`;
    } else {
      const total = args.sizes.length * args.seeds;
      progress.start('replicates', total);
      const r = runEstimatorComparison({ world: { clickModel: args.clickModel }, worldSeed: args.seed, sampleSizes: args.sizes, seeds: args.seeds, lambda: args.lambda, folds: args.folds, onReplicate: (done) => progress.update(done) });
      progress.finish();
      result = r;
      text = `Simulated slate world (${args.clickModel}): true value of the evaluation policy ${r.truth.toFixed(5)} per slot, of the logging policy ${r.loggingValue.toFixed(5)}; ${args.seeds} logs per size\n\n${formatComparisonTable(r)}`;
    }
    mkdirSync(args.out, { recursive: true });
    const file = path.join(args.out, 'results.json');
    writeFileSync(file, `${JSON.stringify({ command: process.argv.slice(2), result }, null, 2)}\n`);
    process.stdout.write(`${text}\n\nwall time ${((Date.now() - started) / 1000).toFixed(1)} s; ${file}\n`);
  },
};
