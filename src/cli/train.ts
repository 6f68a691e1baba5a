import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { loadSingleCell } from '../runner/experiment.js';
import type { Scenario } from '../studies/ultr/scenario.js';
import { trainModel, type ClickSource } from '../studies/ultr/train-model.js';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../learning/backend.js';
import { CLICK_LEARNER_TYPES, type ClickLearnerType } from '../learning/click-learners.js';
import { DEFAULT_EM_ITERATIONS } from '../fitting/fit.js';
import { FITTED_MODEL_TYPES, fittedModelName, type FittedModelType } from '../fitting/registry.js';
import type { ClickModelSpec } from '../simulation/click-models/index.js';
import { numbersFrom, parseSpec, positiveIntegers } from './checks.js';

interface TrainArgs {
  learner: ClickLearnerType;
  out: string;
  log?: string;
  scenario?: string;
  seed: number;
  dataset: string;
  fold?: number;
  train?: string;
  validation?: string;
  normalization: 'per-feature' | 'none';
  clickModel?: string;
  propensities?: number[];
  maxWeight?: number;
  maxRelevanceWeight?: number;
  propensityLearningRate?: number;
  fitModel?: FittedModelType;
  emIterations?: number;
  model: 'mlp' | 'linear';
  hidden: number[];
  steps: number;
  batchSize: number;
  learningRate: number;
  clipNorm: number;
  evalEvery: number;
  patience?: number;
  backend: BackendChoice;
  quiet: boolean;
}

export const trainCommand = {
  command: 'train',
  describe: 'Train a ranker from a click log (a file, or a scenario\'s simulated log) with one learner and save it as a model folder',
  builder: (yargs: Argv) =>
    yargs
      .option('learner', { choices: CLICK_LEARNER_TYPES, demandOption: true, describe: 'the learner' })
      .option('out', { type: 'string', demandOption: true, describe: 'model folder to write (model.json + weights.bin)' })
      .option('log', { type: 'string', describe: 'click log (.csv, .jsonl, .arrow, .parquet) whose item_id are rows of the training split (as `clicklab simulate` writes)' })
      .option('scenario', { type: 'string', describe: 'instead of --log: simulate the click log of this scenario file for --seed (its data set, logger and click model)' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the simulated log, the initial weights and the batches' })
      .option('dataset', { type: 'string', default: 'mq2008', describe: 'shipped data set the log indexes (with --log)' })
      .option('fold', { type: 'number', describe: 'fold of the shipped data set (default 1), or overrides the scenario\'s with --scenario' })
      .option('train', { type: 'string', describe: 'with --log: a LETOR training file instead of the shipped data set' })
      .option('validation', { type: 'string', describe: 'with --train: the LETOR validation file (early stopping, best checkpoint)' })
      .option('normalization', { choices: ['per-feature', 'none'] as const, default: 'per-feature' as const, describe: 'with --train: features to [-1, 1] by training min/max (saved with the model), or as they are' })
      .option('click-model', { type: 'string', describe: 'with --log: the known click model (pbm or trust-bias, name or JSON), for ips, affine and doubly-robust' })
      .option('propensities', { type: 'number', array: true, describe: 'ips: examination propensities relative to rank 1 (instead of --click-model)' })
      .option('max-weight', { type: 'number', describe: 'clipped-ips (required), dla: weight cap' })
      .option('max-relevance-weight', { type: 'number', describe: 'dla: cap on the relevance weights' })
      .option('propensity-learning-rate', { type: 'number', describe: 'dla: learning rate of the propensity model' })
      .option('fit-model', { choices: FITTED_MODEL_TYPES, coerce: fittedModelName, describe: 'click-model: the click model fitted by EM to the log, whose attractiveness estimates are the labels (default pbm)' })
      .option('em-iterations', { type: 'number', describe: 'click-model: EM iterations of the fit (default 50)' })
      .option('model', { choices: ['mlp', 'linear'] as const, default: 'mlp' as const })
      .option('hidden', { type: 'number', array: true, default: [64, 32], describe: 'MLP hidden layer widths' })
      .option('steps', { type: 'number', default: 1500 })
      .option('batch-size', { type: 'number', default: 256 })
      .option('learning-rate', { type: 'number', default: 0.05 })
      .option('clip-norm', { type: 'number', default: 5 })
      .option('eval-every', { type: 'number', default: 100, describe: 'validate (nDCG@10 on true labels) every N steps' })
      .option('patience', { type: 'number', describe: 'stop after N validations without improvement (default: never)' })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice })
      .option('quiet', { type: 'boolean', default: false })
      .check(
        (argv) =>
          positiveIntegers(argv, ['steps', 'batchSize', 'evalEvery', ...(argv.fold === undefined ? [] : ['fold']), ...(argv.patience === undefined ? [] : ['patience']), ...(argv.emIterations === undefined ? [] : ['emIterations'])]) &&
          numbersFrom(argv, ['learningRate', 'propensityLearningRate'], 0, true) &&
          numbersFrom(argv, ['clipNorm'], 0) &&
          numbersFrom(argv, ['maxWeight', 'maxRelevanceWeight'], 1),
      ) as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    if ((args.log === undefined) === (args.scenario === undefined)) throw new ConfigError('--log/--scenario', 'give exactly one: a click-log file, or a scenario whose log to simulate');
    if (args.train !== undefined && args.validation === undefined) throw new ConfigError('--validation', 'a LETOR validation file is needed with --train');
    for (const [flag, value] of [['--fit-model', args.fitModel], ['--em-iterations', args.emIterations]] as const) {
      if (value !== undefined && args.learner !== 'click-model') throw new ConfigError(flag, `only --learner click-model fits a click model, found --learner ${args.learner}`);
    }
    // Say which option is missing before any work starts (the learner itself can only name its spec field).
    if (args.learner === 'clipped-ips' && args.maxWeight === undefined) throw new ConfigError('--max-weight', 'clipped-ips needs a weight cap M, e.g. --max-weight 5');
    if (args.log !== undefined && args.clickModel === undefined) {
      if ((args.learner === 'ips' || args.learner === 'clipped-ips') && args.propensities === undefined) {
        throw new ConfigError('--click-model', `${args.learner} on a log file needs the examination propensities: --click-model (e.g. pbm) or --propensities p1 p2 ...`);
      }
      if (args.learner === 'affine' || args.learner === 'doubly-robust') throw new ConfigError('--click-model', `${args.learner} on a log file needs the click model's α and β: --click-model trust-bias (or pbm, or a JSON spec)`);
    }
    if (args.dataset !== 'mq2008') throw new ConfigError('--dataset', `expected "mq2008" (other sets: --train/--validation), found "${args.dataset}"`);
    const clicks: ClickSource = args.scenario
      ? { scenario: loadSingleCell(args.scenario, 'ultr', 'train', { fold: args.fold }) as Scenario, file: args.scenario, seed: args.seed }
      : {
          log: args.log!,
          data: args.train ? { train: args.train, validation: args.validation!, normalization: args.normalization } : { dataset: 'mq2008', fold: args.fold ?? 1 },
          clickModel: args.clickModel === undefined ? undefined : (parseSpec(args.clickModel, '--click-model') as unknown as ClickModelSpec),
        };
    const backend = await initBackend(args.backend);
    progress.log(`backend: ${backend.name}`);
    const result = await trainModel({
      learner: {
        type: args.learner,
        maxWeight: args.maxWeight,
        maxRelevanceWeight: args.maxRelevanceWeight,
        propensityLearningRate: args.propensityLearningRate,
        propensities: args.propensities,
        ...(args.learner === 'click-model' ? { fitModel: args.fitModel ?? 'pbm', emIterations: args.emIterations ?? DEFAULT_EM_ITERATIONS } : {}),
      },
      clicks,
      model: args.model === 'mlp' ? { type: 'mlp', hidden: args.hidden } : { type: 'linear' },
      training: { steps: args.steps, batchSize: args.batchSize, learningRate: args.learningRate, clipNorm: args.clipNorm, evalEvery: args.evalEvery, patience: args.patience },
      seed: args.seed,
      out: args.out,
      progress,
    });
    const h = result.history;
    process.stdout.write(
      `${args.learner}: best validation nDCG@10 ${result.validation === null ? 'n/a' : result.validation.toFixed(4)} at step ${h.bestStep}${h.stoppedAt < args.steps ? ` (stopped early at ${h.stoppedAt})` : ''}; model written to ${args.out}\n`,
    );
  },
};
