import { ConfigError } from '../../core/errors.js';
import { silentProgress, type Progress } from '../../core/progress.js';
import { randomStream } from '../../core/random.js';
import { gruSlateQuality, PopularityClickModel, type SlateQuality, splitTestUsers } from '../../learning/slates/gru-slate-evaluation.js';
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

export interface GruSlateTrainSpec {
  readonly data: SimulatedSlateData;
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
    const data = training.data as SimulatedSlateData | undefined;
    if (data?.kind !== 'world') throw new ConfigError(`${folder}/model.json: training.data`, 'expected the simulated-world spec the model was trained on');
    const { world, train, test } = simulated(data);
    const o = { fromStep: data.trainSteps, k };
    const popularity = (await PopularityClickModel.fit(inMemoryBlocks(train), world.params.numItems, world.params.slots)).quality(test, o);
    return { fitted: gruSlateQuality(model.posterior().mean(), test, o), popularity, truth: gruSlateQuality(world.params, test, o), k, testUsers: test.users };
  } finally {
    model.dispose();
  }
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
