import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { loadSingleCell } from '../runner/experiment.js';
import type { Scenario } from '../studies/ultr/scenario.js';
import { trainModel, type ClickSource } from '../studies/ultr/train-model.js';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { CLICK_LEARNER_TYPES, type ClickLearnerType } from '../learning/click-learners.js';
import { DEFAULT_EM_ITERATIONS } from '../fitting/fit.js';
import { FITTED_MODEL_TYPES, fittedModelName, type FittedModelType } from '../fitting/registry.js';
import type { ClickModelSpec } from '../simulation/click-models/index.js';
import { guardOutput, namingFlags, parseSpec } from './checks.js';
import { choice, count, flag, numbers, num, quietOption, backendOption, requiredText, seedOption, text, withOptions } from './options.js';

interface TrainArgs {
  learner: ClickLearnerType;
  out: string;
  log?: string;
  stream: boolean;
  shuffleBuffer?: number;
  memoryLimit?: string;
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
  describe: "Train a ranker from a click log (a file, or a scenario's simulated log) with one learner and save it as a model folder",
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      learner: choice(CLICK_LEARNER_TYPES, 'required', 'the learner'),
      out: requiredText('model folder to write (model.json + weights.bin)'),
      log: text(
        undefined,
        'click log whose item_id are rows of the training split (as `clicklab simulate` writes): a .csv, .jsonl, .arrow or .parquet file (read into memory), or a folder of Parquet/CSV partitions or a glob (streamed)',
      ),
      stream: flag('with --log FILE: stream the file through DuckDB and a shuffle buffer instead of reading it into memory (a folder or glob always streams; see docs/streaming.md)'),
      'shuffle-buffer': count(undefined, 'streamed log: sessions in the shuffle buffer (default 100000); batches are correlated within its window'),
      'memory-limit': text(undefined, "streamed log: DuckDB's memory limit (default 1GB)"),
      scenario: text(undefined, 'instead of --log: simulate the click log of this scenario file for --seed (its data set, logger and click model)'),
      seed: seedOption('seed of the simulated log, the initial weights and the batches'),
      dataset: text('mq2008', 'shipped data set the log indexes (with --log)'),
      fold: count(undefined, "fold of the shipped data set (default 1), or overrides the scenario's with --scenario"),
      train: text(undefined, 'with --log: a LETOR training file instead of the shipped data set'),
      validation: text(undefined, 'with --train: the LETOR validation file (early stopping, best checkpoint)'),
      normalization: choice(['per-feature', 'none'] as const, 'per-feature', 'with --train: features to [-1, 1] by training min/max (saved with the model), or as they are'),
      'click-model': text(undefined, 'with --log: the known click model (pbm or trust-bias, name or JSON), for ips, affine and doubly-robust'),
      propensities: numbers(undefined, 'ips: examination propensities relative to rank 1 (instead of --click-model)'),
      'max-weight': { ...num(undefined, 'clipped-ips (required), dla: weight cap'), lowerBound: { value: 1 } },
      'max-relevance-weight': { ...num(undefined, 'dla: cap on the relevance weights'), lowerBound: { value: 1 } },
      'propensity-learning-rate': { ...num(undefined, 'dla: learning rate of the propensity model'), lowerBound: { value: 0, exclusive: true } },
      'fit-model': {
        ...choice(FITTED_MODEL_TYPES, undefined, 'click-model: the click model fitted by EM to the log, whose attractiveness estimates are the labels (default pbm)'),
        coerce: fittedModelName,
      },
      'em-iterations': count(undefined, 'click-model: EM iterations of the fit (default 50)'),
      model: choice(['mlp', 'linear'] as const, 'mlp'),
      hidden: numbers([64, 32], 'MLP hidden layer widths'),
      steps: count(1500),
      'batch-size': count(256),
      'learning-rate': { ...num(0.05), lowerBound: { value: 0, exclusive: true } },
      'clip-norm': { ...num(5), lowerBound: { value: 0 } },
      'eval-every': count(100, 'validate (nDCG@10 on true labels) every N steps'),
      patience: count(undefined, 'stop after N validations without improvement (default: never)'),
      backend: backendOption(),
      quiet: quietOption(),
    }) as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    if ((args.log === undefined) === (args.scenario === undefined)) throw new ConfigError('--log/--scenario', 'give exactly one: a click-log file, or a scenario whose log to simulate');
    if (args.train !== undefined && args.validation === undefined) throw new ConfigError('--validation', 'a LETOR validation file is needed with --train');
    for (const [flag, value] of [
      ['--fit-model', args.fitModel],
      ['--em-iterations', args.emIterations],
    ] as const) {
      if (value !== undefined && args.learner !== 'click-model') throw new ConfigError(flag, `only --learner click-model fits a click model, found --learner ${args.learner}`);
    }
    // Say which option is missing before any work starts (the learner itself can only name its spec field).
    if (args.learner === 'clipped-ips' && args.maxWeight === undefined) throw new ConfigError('--max-weight', 'clipped-ips needs a weight cap M, e.g. --max-weight 5');
    if (args.log !== undefined && args.clickModel === undefined) {
      if ((args.learner === 'ips' || args.learner === 'clipped-ips') && args.propensities === undefined) {
        throw new ConfigError('--click-model', `${args.learner} on a log file needs the examination propensities: --click-model (e.g. pbm) or --propensities p1 p2 ...`);
      }
      if (args.learner === 'affine' || args.learner === 'doubly-robust')
        throw new ConfigError('--click-model', `${args.learner} on a log file needs the click model's α and β: --click-model trust-bias (or pbm, or a JSON spec)`);
    }
    for (const [flagName, value] of [
      ['--stream', args.stream || undefined],
      ['--shuffle-buffer', args.shuffleBuffer],
      ['--memory-limit', args.memoryLimit],
    ] as const) {
      if (value !== undefined && args.log === undefined) throw new ConfigError(flagName, 'expected with --log (a streamed click log), not with --scenario');
    }
    if (args.dataset !== 'mq2008') throw new ConfigError('--dataset', `expected "mq2008" (other sets: --train/--validation), found "${args.dataset}"`);
    const clicks: ClickSource = args.scenario
      ? { scenario: loadSingleCell(args.scenario, 'ultr', 'train', { fold: args.fold }) as Scenario, file: args.scenario, seed: args.seed }
      : {
          log: args.log!,
          data: args.train ? { train: args.train, validation: args.validation!, normalization: args.normalization } : { dataset: 'mq2008', fold: args.fold ?? 1 },
          clickModel: args.clickModel === undefined ? undefined : (parseSpec(args.clickModel, '--click-model') as unknown as ClickModelSpec),
          ...(args.stream || args.shuffleBuffer !== undefined || args.memoryLimit !== undefined
            ? { stream: { always: args.stream, bufferSessions: args.shuffleBuffer, memoryLimit: args.memoryLimit } }
            : {}),
        };
    guardOutput(args.out, {
      kind: 'folder',
      writes: ['model.json', 'weights.bin'],
      inputs: [
        ['--log', args.log],
        ['--scenario', args.scenario],
        ['--train', args.train],
        ['--validation', args.validation],
      ],
    });
    const backend = await initBackend(args.backend);
    progress.log(`backend: ${backend.name}`);
    const result = await namingFlags({ propensities: '--propensities' }, () =>
      trainModel({
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
      }),
    );
    const h = result.history;
    process.stdout.write(
      `${args.learner}: best validation nDCG@10 ${result.validation === null ? 'n/a' : result.validation.toFixed(4)} at step ${h.bestStep}${h.stoppedAt < args.steps ? ` (stopped early at ${h.stoppedAt})` : ''}; model written to ${args.out}\n`,
    );
  },
};
