import path from 'node:path';
import { ConfigError, DataFormatError } from '../../core/errors.js';
import { finnSequenceBlocks, readFinnItemCategories } from '../../data/finn-sequences.js';
import { finnEvaluationBlocks, finnTrainingBlocks } from '../../data/finn-split.js';
import { silentProgress, type Progress } from '../../core/progress.js';
import { randomStream } from '../../core/random.js';
import { fitPopularity, gruSlateQuality, popularityQuality, type SlateQuality, splitTestUsers } from '../../evaluation/gru-slate-quality.js';
import { loadGruSlateModel, saveGruSlateModel } from '../../learning/slates/gru-slate-io.js';
import { GruSlateModel, inMemoryBlocks } from '../../learning/slates/gru-slate-model.js';
import { createGruSlateWorld, type GruSlateWorldOptions, simulateLoggedSequences } from '../../simulation/slates/gru-slate-world.js';

/**
 * Where `clicklab slates train` gets data: a GRU world simulated from a seed (random logged
 * slates), split as FINN.no's protocol: a test fraction of users whose first `trainSteps` steps
 * are in training. The whole spec is saved with the model, so `evaluate` rebuilds the same split.
 */
export interface SimulatedSlateData {
  readonly kind: 'world';
  readonly world: GruSlateWorldOptions;
  readonly seed: number;
  readonly steps: number;
  readonly minSlateLength: number;
  readonly testFraction: number;
  readonly trainSteps: number;
}

/**
 * FINN.no's `data.npz`, streamed in blocks of users (`finnTrainingBlocks`), with the authors'
 * split (5% validation, 5% test users, their first 5 steps in training); item groups are the
 * categories of `itemattr.npz` (default: next to data.npz).
 */
export interface FinnSlateData {
  readonly kind: 'finn';
  readonly file: string;
  readonly itemsFile?: string;
  readonly blockUsers: number;
  /** Read only the first `users` users. */
  readonly users?: number;
  /** d = H of the model (the authors': 25). */
  readonly dim: number;
  /** Seeds the model's initial values and SVI noise. */
  readonly seed: number;
}

export interface GruSlateTrainSpec {
  readonly data: SimulatedSlateData | FinnSlateData;
  readonly epochs: number;
  readonly learningRate: number;
  readonly particles: number;
  readonly batchUsers: number;
  readonly out: string;
}

function simulated(data: SimulatedSlateData) {
  const world = createGruSlateWorld(randomStream(data.seed).derive('world'), data.world);
  const logged = simulateLoggedSequences(world, randomStream(data.seed).derive('logged'), { steps: data.steps, minSlateLength: data.minSlateLength });
  return { world, ...splitTestUsers(logged, randomStream(data.seed).derive('split'), { testFraction: data.testFraction, trainSteps: data.trainSteps }) };
}

/** Train a GRU slate model by SVI on the training split and save it to `spec.out`. */
export async function trainGruSlates(spec: GruSlateTrainSpec, progress: Progress = silentProgress): Promise<{ steps: number; elboPerUser: number; seconds: number; users: number }> {
  if (spec.data.kind === 'finn') return trainOnFinn(spec, spec.data, progress);
  const { world, train } = simulated(spec.data);
  const p = world.params;
  const model = new GruSlateModel({
    dim: p.dim,
    hidden: p.hidden,
    numItems: p.numItems,
    slots: p.slots,
    score: p.score,
    itemGroup: world.itemGroup,
    learningRate: spec.learningRate,
    particles: spec.particles,
    batchUsers: spec.batchUsers,
    seed: spec.data.seed,
  });
  try {
    const report = await model.fit(inMemoryBlocks(train), { epochs: spec.epochs, users: train.users, progress });
    saveGruSlateModel(spec.out, model, { data: spec.data, epochs: spec.epochs, steps: report.steps, elboPerUser: report.elboPerUser, seconds: report.seconds });
    return { steps: report.steps, elboPerUser: report.elboPerUser, seconds: report.seconds, users: train.users };
  } finally {
    model.dispose();
  }
}

async function trainOnFinn(spec: GruSlateTrainSpec, data: FinnSlateData, progress: Progress): Promise<{ steps: number; elboPerUser: number; seconds: number; users: number }> {
  // The first block says how many users the read covers and how many slots a slate has.
  let shape: { totalUsers: number; slots: number } | undefined;
  for await (const block of finnSequenceBlocks(data.file, { blockUsers: 1 })) {
    shape = block;
    break; // closes the reader
  }
  if (!shape) throw new DataFormatError(data.file, null, 'no users');
  // Read after data.npz's first block, so that a missing data file is named before its neighbour.
  const itemGroup = await readFinnItemCategories(data.itemsFile ?? path.join(path.dirname(data.file), 'itemattr.npz'));
  const totalUsers = data.users === undefined ? shape.totalUsers : Math.min(data.users, shape.totalUsers);
  const model = new GruSlateModel({
    dim: data.dim,
    numItems: itemGroup.length,
    slots: shape.slots,
    itemGroup,
    learningRate: spec.learningRate,
    particles: spec.particles,
    batchUsers: spec.batchUsers,
    seed: data.seed,
  });
  try {
    const read = { blockUsers: data.blockUsers, users: data.users, progress: undefined };
    const report = await model.fit(() => finnTrainingBlocks(data.file, read), { epochs: spec.epochs, users: totalUsers, progress });
    saveGruSlateModel(spec.out, model, { data, epochs: spec.epochs, steps: report.steps, elboPerUser: report.elboPerUser, seconds: report.seconds });
    return { steps: report.steps, elboPerUser: report.elboPerUser, seconds: report.seconds, users: totalUsers };
  } finally {
    model.dispose();
  }
}

export interface GruSlateEvaluation {
  readonly fitted: SlateQuality;
  readonly popularity: SlateQuality;
  /** The world's true parameters (simulated data only). */
  readonly truth: SlateQuality | null;
  readonly k: number;
  readonly testUsers: number;
}

/**
 * Held-out log-likelihood per step and hit rate@k of a saved model on its test users (after
 * their training steps), next to the popularity baseline fitted on the same training split and,
 * for simulated data, the true parameters.
 */
export async function evaluateGruSlates(folder: string, k: number): Promise<GruSlateEvaluation> {
  const { model, training } = loadGruSlateModel(folder);
  try {
    const data = training.data as SimulatedSlateData | FinnSlateData | undefined;
    if (data?.kind === 'finn') return await evaluateOnFinn(model, data, k);
    if (data?.kind !== 'world') throw new ConfigError(`${folder}/model.json: training.data`, 'expected the data spec the model was trained on (kind "world" or "finn")');
    const { world, train, test } = simulated(data);
    const o = { fromStep: data.trainSteps, k };
    const popularity = popularityQuality(await fitPopularity(inMemoryBlocks(train)), test, o);
    return { fitted: gruSlateQuality(model.posterior().mean(), test, o), popularity, truth: gruSlateQuality(world.params, test, o), k, testUsers: test.users };
  } finally {
    model.dispose();
  }
}

/** The model and popularity on FINN.no's test users (after their training steps), streamed block by block. */
async function evaluateOnFinn(model: GruSlateModel, data: FinnSlateData, k: number): Promise<GruSlateEvaluation> {
  const read = { blockUsers: data.blockUsers, users: data.users };
  const popularity = await fitPopularity(() => finnTrainingBlocks(data.file, read));
  const mean = model.posterior().mean();
  const sums = { fitted: [0, 0, 0, 0], popularity: [0, 0, 0, 0] };
  const add = (acc: number[], q: SlateQuality) => {
    if (q.steps > 0) acc[0] += q.logLikPerStep * q.steps;
    if (q.clicks > 0) acc[1] += q.hitRate * q.clicks;
    acc[2] += q.steps;
    acc[3] += q.clicks;
  };
  let testUsers = 0;
  for await (const view of finnEvaluationBlocks(data.file, 'test', read)) {
    const o = { fromStep: view.fromStep, k };
    add(sums.fitted, gruSlateQuality(mean, view.sequences, o));
    add(sums.popularity, popularityQuality(popularity, view.sequences, o));
    testUsers += view.sequences.users;
  }
  const quality = ([ll, hits, steps, clicks]: number[]): SlateQuality => ({ logLikPerStep: ll / steps, hitRate: hits / clicks, steps, clicks });
  return { fitted: quality(sums.fitted), popularity: quality(sums.popularity), truth: null, k, testUsers };
}

/** The evaluation as a small table. */
export function formatGruSlateEvaluation(e: GruSlateEvaluation): string {
  const row = (name: string, q: SlateQuality) => `${name.padEnd(12)} ${q.logLikPerStep.toFixed(4).padStart(14)} ${q.hitRate.toFixed(4).padStart(12)}`;
  return [
    `${'model'.padEnd(12)} ${'loglik/step'.padStart(14)} ${`hit rate@${e.k}`.padStart(12)}`,
    row('gru (mean)', e.fitted),
    row('popularity', e.popularity),
    ...(e.truth ? [row('true world', e.truth)] : []),
    `${e.testUsers} test users, ${e.fitted.steps} steps, ${e.fitted.clicks} clicks`,
  ].join('\n');
}
