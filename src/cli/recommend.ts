import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { writeFileAtomic } from '../core/files.js';
import { readInteractionLog } from '../data/interaction-log-io.js';
import { recommenderMetrics, type RatedPairs } from '../evaluation/recommender-metrics.js';
import {
  defaultComparisonLearners,
  formatRecommenderSummary,
  loadRecommenderData,
  runRecommenderComparison,
  summariseRecommenderComparison,
  type RecommenderDataSpec,
  type RecommenderLearnerConfig,
} from '../studies/recommender/comparison.js';
import { formatRecommenderMetrics, trainRecommenderModel } from '../studies/recommender/train-model.js';
import type { RecommenderSpec } from '../simulation/recommender/simulate-log.js';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { IMPLICIT_LEARNERS, type ImplicitLearner } from '../learning/implicit/losses.js';
import { MatrixFactorization } from '../learning/implicit/model.js';
import { IMPLICIT_TRAIN_DEFAULTS } from '../learning/implicit/trainer.js';
import { isNbpoLearner, NBPO_TRAIN_DEFAULTS } from '../learning/implicit/nbpo.js';
import { guardOutput, namingFlags, parseJsonObject } from './checks.js';
import { backendOption, choice, count, flag, num, quietOption, requiredText, seedOption, text, texts, withOptions } from './options.js';

interface TrainArgs {
  data: string;
  stream: boolean;
  world: string;
  testUsers?: number;
  testItemsPerUser: number;
  test?: string;
  learner: ImplicitLearner;
  propensity: 'given' | 'estimated';
  clip: number;
  confidence?: number;
  seed: number;
  out: string;
  dim?: number;
  lr?: number;
  l2?: number;
  batchSize?: number;
  maxSteps: number;
  evalEvery?: number;
  patience: number;
  epochs?: number;
  flipDim?: number;
  flipL2?: number;
  decay?: number;
  negatives?: number;
  backend: BackendChoice;
  quiet: boolean;
}

interface ScoreArgs {
  model: string;
  top: number;
  users?: string;
  test?: string;
  backend: BackendChoice;
}

const D = IMPLICIT_TRAIN_DEFAULTS;

/** The library's fields as the flags that set them, for its error messages. */
const RECOMMEND_FLAGS = {
  'data.testFile': '--test',
  clip: '--clip',
  propensity: '--propensity',
  learner: '--learner',
  world: '--world',
  confidence: '--confidence',
  dimension: '--dim',
  learningRate: '--lr',
  l2: '--l2',
  batchSize: '--batch-size',
  maxSteps: '--max-steps',
  evalEvery: '--eval-every',
  patience: '--patience',
  'train.dimension': '--dim',
  'train.flipDimension': '--flip-dim',
  'train.learningRate': '--lr',
  'train.decay': '--decay',
  'train.l2': '--l2',
  'train.flipL2': '--flip-l2',
  'train.batchSize': '--batch-size',
  'train.negatives': '--negatives',
  'train.maxEpochs': '--epochs',
  'train.evalEvery': '--eval-every',
  'train.patience': '--patience',
};
const N = NBPO_TRAIN_DEFAULTS;
const MAX_STEPS = count(D.maxSteps);

const trainCommand = {
  command: 'train',
  describe: 'Train a recommender on implicit feedback (world, coat or an interaction log), print its test metrics and save it to a folder',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      data: text(
        'world',
        'world (simulated, see --world), coat (shipped), or an interaction log (user_id, item_id, click[, pscore]): a file, or a folder of Parquet/CSV partitions or a glob (streamed)',
      ),
      stream: flag('interaction-log data: reduce the log to its clicked pairs in one streamed pass (DuckDB) instead of reading it into memory; a folder or glob always streams'),
      world: text('{}', 'simulated world as JSON (as simulate --recommender); default 2000 users × 500 items, 100 exposures, mean preference 0.1'),
      'test-users': num(undefined, 'world: users in the uniform test set (default all)'),
      'test-items-per-user': count(50, 'world: uniformly random test items per user'),
      test: text(undefined, 'interaction-log data: a test log whose click column is the relevance'),
      learner: choice(IMPLICIT_LEARNERS, 'relmf', 'mf (naive), wmf (Hu et al. 2008), relmf (Saito et al. 2020), nbpo / nbpoo / bpo (Yu & Qin 2020)'),
      propensity: choice(['given', 'estimated'] as const, 'estimated', 'relmf: θ the data comes with (world truth, Coat propensities, log pscore) or θ̂_i = (n_i/max n)^0.5'),
      clip: num(0, 'relmf: clip M, θ ← max(θ, M) (0: unclipped)'),
      confidence: num(undefined, "wmf: α in c = 1 + α·Y (default Rel-MF's tuned weight, α = 0.0233)"),
      seed: seedOption(),
      out: requiredText('model folder (model.json + weights.bin)'),
      dim: count(undefined, `embedding dimension d (default ${D.dimension}; nbpo/nbpoo/bpo ${N.dimension})`),
      lr: num(undefined, `learning rate: Adam (default ${D.learningRate}); nbpo/nbpoo/bpo SGD η (default ${N.learningRate})`),
      l2: num(undefined, `λ on ½‖U‖² + ½‖V‖² (default ${D.l2}; nbpo/nbpoo/bpo λ_r, default ${N.l2})`),
      'batch-size': count(
        undefined,
        `pairs per step, half clicked and half unlabeled (default ${D.batchSize}); nbpo/nbpoo/bpo: observed pairs per step, each with its negatives (default ${N.batchSize})`,
      ),
      'max-steps': MAX_STEPS,
      'eval-every': count(undefined, `steps between validation looks (default ${D.evalEvery}); nbpo/nbpoo/bpo: epochs (default ${N.evalEvery})`),
      patience: num(D.patience, 'looks without a better validation DCG@5 before stopping (0: never)'),
      epochs: count(undefined, `nbpo/nbpoo/bpo: at most this many epochs (default ${N.maxEpochs})`),
      'flip-dim': count(undefined, `nbpo/nbpoo: flip dimension K₁ (default ${N.flipDimension})`),
      'flip-l2': num(undefined, `nbpo/nbpoo: λ_φ on the flip factors (default ${N.flipL2})`),
      decay: num(undefined, `nbpo/nbpoo/bpo: η ← η·decay per epoch (default ${N.decay})`),
      negatives: count(undefined, `nbpo/nbpoo/bpo: unobserved items drawn per observed pair (default ${N.negatives})`),
      backend: backendOption('TF.js backend'),
      quiet: quietOption(),
    }) as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    if (args.stream && (args.data === 'world' || args.data === 'coat')) throw new ConfigError('--stream', `expected --data to be an interaction log, found ${args.data}`);
    guardOutput(args.out, { kind: 'folder', writes: ['model.json', 'weights.bin'], inputs: recommendInputs(args) });
    const backend = await initBackend(args.backend);
    const progress = stderrProgress({ quiet: args.quiet });
    progress.log(`backend: ${backend.name} (${backend.description})`);
    const data: RecommenderDataSpec =
      args.data === 'world'
        ? { kind: 'world', spec: parseJsonObject(args.world, '--world') as RecommenderSpec, testUsers: args.testUsers, testItemsPerUser: args.testItemsPerUser }
        : args.data === 'coat'
          ? { kind: 'coat' }
          : { kind: 'log', file: args.data, testFile: args.test, stream: args.stream };
    const nbpo = isNbpoLearner(args.learner)
      ? {
          dimension: args.dim,
          flipDimension: args.flipDim,
          learningRate: args.lr,
          decay: args.decay,
          l2: args.l2,
          flipL2: args.flipL2,
          batchSize: args.batchSize,
          negatives: args.negatives,
          maxEpochs: args.epochs,
          evalEvery: args.evalEvery,
          patience: args.patience,
        }
      : undefined;
    const learner: RecommenderLearnerConfig = { name: args.learner, learner: args.learner, propensity: args.propensity, clip: args.clip, confidence: args.confidence, nbpo };
    const settings = {
      dimension: args.dim ?? D.dimension,
      learningRate: args.lr ?? D.learningRate,
      l2: args.l2 ?? D.l2,
      batchSize: args.batchSize ?? D.batchSize,
      maxSteps: args.maxSteps,
      evalEvery: args.evalEvery ?? D.evalEvery,
      patience: args.patience,
    };
    const r = await namingFlags(RECOMMEND_FLAGS, () => trainRecommenderModel({ data, learner, settings, seed: args.seed, out: args.out, progress }));
    process.stdout.write(
      `${r.data.name}: ${r.data.clicks} clicks, ${r.data.numUsers} users × ${r.data.numItems} items; ${args.learner} kept step ${r.bestStep} of ${r.stepsRun} (validation IPS DCG@5 ${r.bestValidation?.toFixed(4) ?? '—'})\n`,
    );
    if (Object.keys(r.metrics).length > 0) process.stdout.write(`${formatRecommenderMetrics(r.metrics)}\n`);
    const f = r.flipRecovery;
    if (f) {
      process.stdout.write(
        `learned ρ vs true 1 − θ_i over true-positive test pairs: correlation ${f.correlation.toFixed(3)}, RMSE ${f.rmse.toFixed(3)}, mean ${f.meanLearned.toFixed(3)} vs ${f.meanTrue.toFixed(3)}\n`,
      );
    }
    process.stdout.write(`model written to ${args.out}\n`);
  },
};

const scoreCommand = {
  command: 'score',
  describe: 'Score a saved recommender: top-K items per user (CSV), or metrics on a test set (coat, or a test log whose click column is the relevance)',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      model: requiredText('folder written by recommend train'),
      top: count(5, 'K: items per user'),
      users: text(undefined, 'comma-separated user ids (default: every user)'),
      test: text(undefined, 'coat, or an interaction-log file: print DCG/Recall/MAP@1,3,5 instead of top-K lists'),
      backend: backendOption('TF.js backend'),
    }) as unknown as Argv<ScoreArgs>,
  handler: async (args: ArgumentsCamelCase<ScoreArgs>) => {
    await initBackend(args.backend);
    const { model } = await MatrixFactorization.load(args.model);
    const scorer = model.factors();
    model.dispose();
    if (args.test) {
      const test = await testPairs(args.test);
      for (let r = 0; r < test.user.length; r++) {
        if (test.user[r] >= model.numUsers || test.item[r] >= model.numItems) {
          throw new ConfigError('--test', `row ${r + 1} has user ${test.user[r]}, item ${test.item[r]}: the model knows ${model.numUsers} users × ${model.numItems} items`);
        }
      }
      process.stdout.write(`${formatRecommenderMetrics({ all: recommenderMetrics(scorer, test) })}\n`);
      return;
    }
    const users = args.users === undefined ? Array.from({ length: model.numUsers }, (_, u) => u) : args.users.split(',').map((text) => userId(text, model.numUsers));
    let text = 'user_id,rank,item_id,score\n';
    for (const u of users)
      scorer.topItems(u, args.top).forEach((item, r) => {
        text += `${u},${r + 1},${item},${scorer.score(u, item).toPrecision(6)}\n`;
      });
    process.stdout.write(text);
  },
};

interface CompareArgs {
  data: string;
  world: string;
  test?: string;
  seeds: number;
  clip: number;
  maxSteps: number;
  learner?: string[];
  results?: string;
  backend: BackendChoice;
  quiet: boolean;
}

const compareCommand = {
  command: 'compare',
  describe: 'MF, WMF and Rel-MF (θ given / estimated, unclipped / clipped), or the --learner list (nbpo, nbpoo, bpo, ...), over seeds: mean ± 95% CI of DCG/Recall/MAP@1,3,5, all and rare items',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      data: text('world', 'world, coat, or an interaction-log file (with --test)'),
      world: text('{}', 'simulated world as JSON (as simulate --recommender)'),
      test: text(undefined, 'interaction-log data: the test log'),
      seeds: count(5, 'seeds 1..N'),
      clip: num(0.1, 'M of the clipped Rel-MF rows'),
      'max-steps': MAX_STEPS,
      learner: texts(undefined, `learners to compare (any of ${IMPLICIT_LEARNERS.join(', ')}; repeatable; default MF, WMF and the four Rel-MF rows)`),
      results: text(undefined, 'also write the tidy per-seed rows here (JSON)'),
      backend: backendOption('TF.js backend'),
      quiet: quietOption(),
    }) as unknown as Argv<CompareArgs>,
  handler: async (args: ArgumentsCamelCase<CompareArgs>) => {
    if (args.results !== undefined) guardOutput(args.results, { option: '--results', kind: 'file', inputs: recommendInputs(args) });
    const backend = await initBackend(args.backend);
    const progress = stderrProgress({ quiet: args.quiet });
    progress.log(`backend: ${backend.name} (${backend.description})`);
    const data: RecommenderDataSpec =
      args.data === 'world'
        ? { kind: 'world', spec: parseJsonObject(args.world, '--world') as RecommenderSpec }
        : args.data === 'coat'
          ? { kind: 'coat' }
          : { kind: 'log', file: args.data, testFile: args.test };
    const seeds = Array.from({ length: args.seeds }, (_, s) => s + 1);
    const learners = args.learner ? args.learner.map((name) => namedLearner(name, args.clip)) : defaultComparisonLearners(args.clip);
    const rows = await namingFlags(RECOMMEND_FLAGS, () => runRecommenderComparison({ data, learners, seeds, settings: { maxSteps: args.maxSteps }, progress }));
    if (args.results) writeFileAtomic(args.results, `${JSON.stringify(rows, null, 1)}\n`);
    process.stdout.write(`${formatRecommenderSummary(summariseRecommenderComparison(rows))}\n`);
  },
};

export const recommendCommand = {
  command: 'recommend',
  describe: 'Exposure-debiased recommendation from implicit feedback: MF, WMF, Rel-MF, NBPO, NBPOo, BPO (train | score | compare)',
  builder: (yargs: Argv) => yargs.command(trainCommand).command(scoreCommand).command(compareCommand).demandCommand(1, 'name an action: clicklab recommend train, score or compare'),
  handler: () => {},
};

/** The files `recommend` reads: `--data` (unless a keyword, world or coat) and `--test`. */
function recommendInputs(args: { readonly data: string; readonly test?: string }): [string, string | undefined][] {
  return [
    ['--data', args.data === 'world' || args.data === 'coat' ? undefined : args.data],
    ['--test', args.test],
  ];
}

/** A compare row from a learner name: Rel-MF with estimated θ, clipped at --clip. */
function namedLearner(name: string, clip: number): RecommenderLearnerConfig {
  const labels: Record<ImplicitLearner, string> = { mf: 'MF', wmf: 'WMF', relmf: `Rel-MF θ̂, M=${clip}`, nbpo: 'NBPO', nbpoo: 'NBPOo', bpo: 'BPO' };
  if (!(IMPLICIT_LEARNERS as readonly string[]).includes(name)) throw new ConfigError('--learner', `expected one of ${IMPLICIT_LEARNERS.join(', ')}, found "${name}"`);
  const learner = name as ImplicitLearner;
  return { name: labels[learner], learner, propensity: 'estimated', clip };
}

async function testPairs(test: string): Promise<RatedPairs> {
  if (test === 'coat') {
    const data = await loadRecommenderData({ kind: 'coat' }, 0);
    return data.test!;
  }
  const logged = await readInteractionLog(test);
  return { user: logged.log.user, item: logged.log.item, relevant: logged.log.click };
}

function userId(text: string, numUsers: number): number {
  const u = Number(text.trim());
  if (!(Number.isInteger(u) && u >= 0 && u < numUsers)) throw new ConfigError('--users', `expected user ids in [0, ${numUsers}), found "${text}"`);
  return u;
}
