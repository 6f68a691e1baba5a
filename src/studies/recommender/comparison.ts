import { shippedDataPath } from '../../data/shipped.js';
import { isPartitionedLog, LogEngine, type InteractionPairs } from '../../data/engine.js';
import { ConfigError } from '../../core/errors.js';
import { silentProgress, type Progress } from '../../core/progress.js';
import { randomStream, type RandomStream } from '../../core/random.js';
import { loadCoat } from '../../data/coat.js';
import { readInteractionLog } from '../../data/interaction-log-io.js';
import type { LoggedInteractions } from '../../data/interaction-log-table.js';
import { ipsValidation, rareItems, recommenderMetrics, type RatedPairs, type RecommenderMetric } from '../../evaluation/recommender-metrics.js';
import { confidenceHalfWidth, formatMeanInterval, mean } from '../../evaluation/statistics.js';
import { clickedMatrix, estimateItemExposure, ExposurePropensity, itemClickCounts, type ImplicitFeedback } from '../../learning/implicit/feedback.js';
import type { ImplicitLearner, ImplicitLossSpec } from '../../learning/implicit/losses.js';
import { trainImplicit, type ImplicitTrainOptions, type ImplicitTrainResult } from '../../learning/implicit/trainer.js';
import type { MatrixFactorization } from '../../learning/implicit/model.js';
import { flipRecovery, isNbpoLearner, trainNbpo, type NbpoTrainOptions } from '../../learning/implicit/nbpo.js';
import { alignColumns } from '../../core/text-table.js';
import { buildRecommenderWorld, recommenderTestSet, resolveRecommenderSpec, simulateRecommenderLog, type RecommenderSpec } from '../../simulation/recommender/simulate-log.js';

/** Where training clicks (and a bias-free test set) come from. */
export type RecommenderDataSpec =
  /** A simulated world (simulate-recommender.ts): the log and uniform test set `clicklab simulate --world recommender` writes for the same seed. */
  | { readonly kind: 'world'; readonly spec?: RecommenderSpec; readonly testUsers?: number; readonly testItemsPerUser?: number }
  /** Coat (datasets/coat by default), binarised as Rel-MF does: rating ≥ 4 is relevant. */
  | { readonly kind: 'coat'; readonly folder?: string }
  /** An interaction-log file (user_id, item_id, click[, pscore]) and optionally a test log whose click is the relevance. */
  | {
      readonly kind: 'log';
      readonly file: string;
      readonly testFile?: string;
      /**
       * Reduce the log to its distinct clicked pairs (and θ per item) in one streamed pass through the
       * engine instead of reading it into memory (`LogEngine.interactionPairs`): the same data, so the
       * same model. A folder of partitions or a glob always streams. The test log is read into memory.
       */
      readonly stream?: boolean;
    };

export interface RecommenderData {
  readonly name: string;
  readonly numUsers: number;
  readonly numItems: number;
  /** Every clicked pair (validation clicks are split off later). */
  readonly clicks: ImplicitFeedback;
  readonly test?: RatedPairs;
  /** The exposure propensity the data comes with: the simulator's θ_i, Coat's propensities.ascii, a log's pscore. */
  readonly givenPropensity?: ExposurePropensity;
  /**
   * Worlds only: the test pairs whose world outcome R_ui is 1 (true positives) and the true flip
   * probability of each, 1 − θ_i: a true positive goes unobserved exactly when it is not shown, and
   * exposure is independent of preference. What NBPO's ρ_ui = σ(p_u·q_i) is checked against.
   */
  readonly flipTruth?: { readonly user: Int32Array; readonly item: Int32Array; readonly trueFlip: (user: number, item: number) => number };
}

export const COAT_FOLDER = shippedDataPath('coat');
/** Rel-MF's binarisation threshold: ratings ≥ 4 are relevant (its preprocessor's default). */
export const RELEVANCE_THRESHOLD = 4;

/**
 * World defaults for the comparison: 2,000 users × 500 items, 100 items shown per user and a mean
 * preference of 0.1 (about 10 clicks per user, so that there is a preference to learn), Zipf
 * popularity α = 1 and θ ∝ π (γ = 1); training takes seconds per learner. (With fewer than 100
 * items, every item's expected exposures default to the number of items.)
 */
export const COMPARISON_WORLD: RecommenderSpec = Object.freeze({ users: 2000, items: 500, meanPreference: 0.1, exposure: { expectedExposures: 100 } });

export async function loadRecommenderData(spec: RecommenderDataSpec, seed: number): Promise<RecommenderData> {
  if (spec.kind === 'coat') {
    const coat = loadCoat(spec.folder ?? COAT_FOLDER);
    const { numUsers, numItems } = coat;
    // Rel-MF's preprocessor: train keeps only its positives (rating ≥ 4) as clicks; every other pair,
    // rated low or not rated, is unlabeled. Test keeps every rated pair with its binary label.
    const users: number[] = [];
    const items: number[] = [];
    const testRows: number[] = [];
    for (let c = 0; c < numUsers * numItems; c++) {
      if (coat.train[c] >= RELEVANCE_THRESHOLD) {
        users.push(Math.floor(c / numItems));
        items.push(c % numItems);
      }
      if (coat.test[c] > 0) testRows.push(c);
    }
    return {
      name: 'coat',
      numUsers,
      numItems,
      clicks: { numUsers, numItems, user: Int32Array.from(users), item: Int32Array.from(items) },
      test: {
        user: Int32Array.from(testRows, (c) => Math.floor(c / numItems)),
        item: Int32Array.from(testRows, (c) => c % numItems),
        relevant: Uint8Array.from(testRows, (c) => (coat.test[c] >= RELEVANCE_THRESHOLD ? 1 : 0)),
      },
      givenPropensity: ExposurePropensity.perPair(coat.propensity, numUsers, numItems),
    };
  }
  if (spec.kind === 'world') {
    const items = spec.spec?.items ?? COMPARISON_WORLD.items!;
    const exposure = { expectedExposures: Math.min(COMPARISON_WORLD.exposure!.expectedExposures!, items), ...spec.spec?.exposure };
    const world = resolveRecommenderSpec({ ...COMPARISON_WORLD, ...spec.spec, exposure }, 'world');
    const rng = randomStream(seed);
    const chunks: LoggedInteractions[] = [];
    await simulateRecommenderLog(world, rng, (chunk) => void chunks.push(chunk));
    const logged = concat(chunks);
    const { users: numUsers, items: numItems } = world;
    const test = recommenderTestSet(world, rng, { usersSample: Math.min(spec.testUsers ?? numUsers, numUsers), itemsPerUser: Math.min(spec.testItemsPerUser ?? 50, numItems) });
    // Test relevance is a fresh draw R' ~ Bernoulli(P(R_ui = 1)), not the world's fixed outcome R_ui:
    // R_ui is shared with the log, so a test pair the user was shown and did not click is irrelevant
    // for sure (and one clicked is relevant for sure), which would score recall of the log rather than
    // preference. A fresh draw is what a new, unbiased look at the pair would show.
    const outcomes = rng.derive('test-outcomes');
    const preference = test.truth!.preferenceProbability;
    const relevant = Uint8Array.from(preference, (p) => (outcomes.uniform() < p ? 1 : 0));
    const theta = buildRecommenderWorld(world, rng).exposure.probability;
    const positives: number[] = [];
    test.log.click.forEach((r, j) => {
      if (r) positives.push(j);
    });
    return {
      name: `world ${numUsers}×${numItems}`,
      numUsers,
      numItems,
      clicks: clickedPairs(logged, numUsers, numItems),
      test: { user: test.log.user, item: test.log.item, relevant, preferenceProbability: preference },
      givenPropensity: itemPropensity(logged, numItems, 'world'),
      flipTruth: { user: Int32Array.from(positives, (j) => test.log.user[j]), item: Int32Array.from(positives, (j) => test.log.item[j]), trueFlip: (_, i) => 1 - theta[i] },
    };
  }
  const maxId = (a: Int32Array) => a.reduce((m, v) => Math.max(m, v), -1);
  if (spec.stream === true || isPartitionedLog(spec.file)) {
    const engine = await LogEngine.open();
    let pairs: InteractionPairs;
    try {
      pairs = await engine.interactionPairs(spec.file);
    } finally {
      engine.close();
    }
    const test = spec.testFile ? await readInteractionLog(spec.testFile) : undefined;
    const numUsers = Math.max(pairs.maxUser, test ? maxId(test.log.user) : -1) + 1;
    const numItems = Math.max(pairs.maxItem, test ? maxId(test.log.item) : -1) + 1;
    const theta = pairs.theta === null ? null : new Float32Array(numItems);
    if (theta !== null) theta.set(pairs.theta!);
    return {
      name: spec.file,
      numUsers,
      numItems,
      clicks: { numUsers, numItems, user: pairs.user, item: pairs.item },
      test: test ? { user: test.log.user, item: test.log.item, relevant: test.log.click } : undefined,
      givenPropensity: theta === null ? undefined : ExposurePropensity.perItem(theta),
    };
  }
  const logged = await readInteractionLog(spec.file);
  const test = spec.testFile ? await readInteractionLog(spec.testFile) : undefined;
  const numUsers = Math.max(maxId(logged.log.user), test ? maxId(test.log.user) : -1) + 1;
  const numItems = Math.max(maxId(logged.log.item), test ? maxId(test.log.item) : -1) + 1;
  return {
    name: spec.file,
    numUsers,
    numItems,
    clicks: clickedPairs(logged, numUsers, numItems),
    test: test ? { user: test.log.user, item: test.log.item, relevant: test.log.click } : undefined,
    givenPropensity: logged.propensity ? itemPropensity(logged, numItems, spec.file) : undefined,
  };
}

/** A learner as the comparison runs it. */
export interface RecommenderLearnerConfig {
  /** Row label, e.g. "Rel-MF (clip 0.1)". */
  readonly name: string;
  readonly learner: ImplicitLearner;
  /** Rel-MF: θ the data comes with ('given') or estimated from clicks (default 'estimated'). */
  readonly propensity?: 'given' | 'estimated';
  /** Rel-MF: clip M (default 0). */
  readonly clip?: number;
  /** WMF: confidence α (default 1 / 0.977 − 1, Rel-MF's tuned WMF weight 0.977 on unlabeled pairs). */
  readonly confidence?: number;
  /** NBPO, NBPOo, BPO: their own training settings (the authors' defaults, NBPO_TRAIN_DEFAULTS); `TrainingSettings` do not apply. */
  readonly nbpo?: NbpoSettings;
}

export type NbpoSettings = Partial<Omit<NbpoTrainOptions, 'learner' | 'validate' | 'rng' | 'progress' | 'label'>>;

/** Rel-MF's tuned WMF gives unlabeled pairs weight 0.977 relative to clicks: α = 1/0.977 − 1. */
export const WMF_CONFIDENCE = 1 / 0.977252357949727 - 1;

export function lossSpecOf(config: RecommenderLearnerConfig): ImplicitLossSpec {
  switch (config.learner) {
    case 'mf':
      return { learner: 'mf' };
    case 'wmf':
      return { learner: 'wmf', confidence: config.confidence ?? WMF_CONFIDENCE };
    case 'relmf': {
      const clip = config.clip ?? 0;
      if (!(clip >= 0 && clip <= 1)) throw new ConfigError('clip', `expected M in [0, 1], found ${clip}`);
      return { learner: 'relmf', clip };
    }
    case 'nbpo':
    case 'nbpoo':
    case 'bpo':
      throw new ConfigError('learner', `"${config.learner}" is not a pointwise learner: trainRecommender trains it with trainNbpo`);
    default:
      throw new ConfigError('learner', `expected one of mf, wmf, relmf, nbpo, nbpoo, bpo, found "${String(config.learner)}"`);
  }
}

export type TrainingSettings = Omit<ImplicitTrainOptions, 'loss' | 'propensity' | 'validate' | 'rng' | 'progress' | 'label'>;

export interface TrainedRecommender {
  readonly result: ImplicitTrainResult;
  /** NBPO and NBPOo: the flip factorisation, ρ_ui = σ(p_u · q_i); null for the others. */
  readonly flip: MatrixFactorization | null;
  /** θ̂_i estimated from the training clicks (used by validation, and by Rel-MF when 'estimated'). */
  readonly estimatedPropensity: Float32Array;
  /** Training clicks per item (validation clicks excluded): what "rare" is measured on. */
  readonly itemClicks: Int32Array;
  readonly trainingClicks: ImplicitFeedback;
}

/**
 * Splits 10% of the clicks off for validation (Rel-MF holds out 10% of the training data), estimates
 * θ̂ from the rest, and trains the learner with early stopping on Rel-MF's IPS validation DCG@5
 * (θ̂ as propensities, whatever the learner, so every learner is chosen by the same yardstick).
 */
export function trainRecommender(data: RecommenderData, config: RecommenderLearnerConfig, settings: TrainingSettings, rng: RandomStream, progress: Progress = silentProgress): TrainedRecommender {
  const { training, validation } = splitClicks(data.clicks, 0.1, rng.derive('validation-split'));
  const estimated = estimateItemExposure(training);
  const trainClicked = clickedMatrix(training);
  const validate = ipsValidation(
    validation,
    (u, i) => trainClicked[u * data.numItems + i] === 1,
    data.numItems,
    (_, i) => estimated[i],
    rng.derive('validation-negatives'),
  );
  const trained = { estimatedPropensity: estimated, itemClicks: itemClickCounts(training), trainingClicks: training };
  if (isNbpoLearner(config.learner)) {
    const { flip, ...result } = trainNbpo(training, { ...config.nbpo, learner: config.learner, validate, rng: rng.derive('train'), progress, label: config.name });
    return { ...trained, result, flip };
  }
  const loss = lossSpecOf(config);
  let propensity: ExposurePropensity | undefined;
  if (loss.learner === 'relmf') {
    if ((config.propensity ?? 'estimated') === 'given') {
      if (!data.givenPropensity) throw new ConfigError('propensity', `expected ${data.name} to come with exposure propensities (pscore), found none: use estimated`);
      propensity = data.givenPropensity;
    } else {
      propensity = ExposurePropensity.perItem(estimated);
    }
  }
  const result = trainImplicit(training, { ...settings, loss, propensity, validate, rng: rng.derive('train'), progress, label: config.name });
  return { ...trained, result, flip: null };
}

/** Holds out a fraction of the clicked pairs (at least one, when there are two or more). */
export function splitClicks(clicks: ImplicitFeedback, fraction: number, rng: RandomStream): { training: ImplicitFeedback; validation: ImplicitFeedback } {
  const n = clicks.user.length;
  const held = n >= 2 ? Math.max(1, Math.round(fraction * n)) : 0;
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, j) => j));
  const pick = (rows: Int32Array): ImplicitFeedback => {
    const sorted = Int32Array.from(rows).sort();
    return { numUsers: clicks.numUsers, numItems: clicks.numItems, user: Int32Array.from(sorted, (j) => clicks.user[j]), item: Int32Array.from(sorted, (j) => clicks.item[j]) };
  };
  return { training: pick(order.subarray(held)), validation: pick(order.subarray(0, held)) };
}

/** One tidy result row. */
export interface RecommenderComparisonRow {
  readonly data: string;
  readonly learner: string;
  readonly seed: number;
  readonly items: 'all' | 'rare';
  readonly metric: RecommenderMetric | FlipMetric;
  /** The cutoff K; 0 for the flip metrics. */
  readonly k: number;
  readonly value: number;
}

/**
 * NBPO's learned ρ_ui against the true flip probability 1 − θ_i over a world's true-positive test
 * pairs (RecommenderData.flipTruth): Pearson correlation and RMSE.
 */
export type FlipMetric = 'ρ corr' | 'ρ RMSE';

export interface RecommenderComparisonOptions {
  readonly data: RecommenderDataSpec;
  readonly learners: readonly RecommenderLearnerConfig[];
  readonly seeds: readonly number[];
  readonly settings?: TrainingSettings;
  readonly ks?: readonly number[];
  readonly progress?: Progress;
}

/** Default line-up: MF, WMF, Rel-MF with given and estimated θ, unclipped and clipped. */
export function defaultComparisonLearners(clip: number): RecommenderLearnerConfig[] {
  return [
    { name: 'MF', learner: 'mf' },
    { name: 'WMF', learner: 'wmf' },
    { name: 'Rel-MF θ given', learner: 'relmf', propensity: 'given', clip: 0 },
    { name: `Rel-MF θ given, M=${clip}`, learner: 'relmf', propensity: 'given', clip },
    { name: 'Rel-MF θ̂', learner: 'relmf', propensity: 'estimated', clip: 0 },
    { name: `Rel-MF θ̂, M=${clip}`, learner: 'relmf', propensity: 'estimated', clip },
  ];
}

/**
 * Trains every learner on every seed (a world is re-simulated per seed; Coat's split, initialisation
 * and batches change) and scores it on the data's test set, for all items and for rare items.
 */
export async function runRecommenderComparison(options: RecommenderComparisonOptions): Promise<RecommenderComparisonRow[]> {
  const rows: RecommenderComparisonRow[] = [];
  const progress = options.progress ?? silentProgress;
  for (const seed of options.seeds) {
    const data = await loadRecommenderData(options.data, seed);
    if (!data.test) throw new ConfigError('data.testFile', `expected a test set to score ${data.name} on, found none`);
    for (const config of options.learners) {
      const trained = trainRecommender(data, config, options.settings ?? {}, randomStream(seed).derive('learner', config.name), progress);
      const scorer = trained.result.model.factors();
      trained.result.model.dispose();
      if (trained.flip) {
        if (data.flipTruth) {
          const r = flipRecovery(trained.flip.factors(), data.flipTruth, data.flipTruth.trueFlip);
          rows.push({ data: data.name, learner: config.name, seed, items: 'all', metric: 'ρ corr', k: 0, value: r.correlation });
          rows.push({ data: data.name, learner: config.name, seed, items: 'all', metric: 'ρ RMSE', k: 0, value: r.rmse });
        }
        trained.flip.dispose();
      }
      const rare = rareItems(trained.itemClicks, data.numUsers);
      for (const [items, includeItem] of [
        ['all', undefined],
        ['rare', rare.isRare],
      ] as const) {
        for (const m of recommenderMetrics(scorer, data.test, { ks: options.ks, includeItem })) {
          rows.push({ data: data.name, learner: config.name, seed, items, metric: m.metric, k: m.k, value: m.value });
        }
      }
    }
  }
  return rows;
}

export interface RecommenderSummaryRow {
  readonly data: string;
  readonly learner: string;
  readonly items: 'all' | 'rare';
  readonly metric: RecommenderMetric | FlipMetric;
  readonly k: number;
  readonly mean: number;
  /** Half-width of the 95% Student-t interval over seeds. */
  readonly halfWidth: number;
  readonly seeds: number;
}

export function summariseRecommenderComparison(rows: readonly RecommenderComparisonRow[]): RecommenderSummaryRow[] {
  const groups = new Map<string, RecommenderComparisonRow[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.data, r.learner, r.items, r.metric, r.k]);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((g) => {
    const values = g.map((r) => r.value);
    const { data, learner, items, metric, k } = g[0];
    return { data, learner, items, metric, k, mean: mean(values), halfWidth: confidenceHalfWidth(values), seeds: values.length };
  });
}

/**
 * One table per item subset: learners as rows, metric@K as columns, "mean ± half-width" (the mean
 * alone from one seed). A subset with no test pair to score (a world too small to have rare items
 * in its test set) is a line that says so, not a table of NaN; a single cell without a value is n/a.
 */
export function formatRecommenderSummary(summary: readonly RecommenderSummaryRow[]): string {
  const tables: string[] = [];
  for (const items of ['all', 'rare'] as const) {
    const part = summary.filter((s) => s.items === items);
    if (part.length === 0) continue;
    if (part.every((s) => !Number.isFinite(s.mean))) {
      tables.push(`${part[0].data}, ${items} items: n/a (no ${items === 'rare' ? 'rare ' : ''}item of the test set has a relevant pair to score)`);
      continue;
    }
    const column = (s: RecommenderSummaryRow) => (s.k === 0 ? s.metric : `${s.metric}@${s.k}`);
    const columns = [...new Set(part.map(column))];
    const learners = [...new Set(part.map((s) => s.learner))];
    const cell = (learner: string, name: string) => {
      const s = part.find((p) => p.learner === learner && column(p) === name);
      return s ? formatMeanInterval(s.mean, s.halfWidth, s.seeds, 4) : '';
    };
    const seeds = part[0].seeds;
    const title = seeds < 2 ? `${part[0].data}, ${items} items (1 seed, mean; no interval from one seed)` : `${part[0].data}, ${items} items (${seeds} seeds, mean ± 95% CI)`;
    tables.push(`${title}\n${alignColumns([['learner', ...columns], ...learners.map((l) => [l, ...columns.map((c) => cell(l, c))])])}`);
  }
  return tables.join('\n\n');
}

/** Distinct clicked pairs of a log (a pair clicked twice counts once). */

function clickedPairs(logged: LoggedInteractions, numUsers: number, numItems: number): ImplicitFeedback {
  const seen = new Set<number>();
  const users: number[] = [];
  const items: number[] = [];
  const { user, item, click } = logged.log;
  for (let r = 0; r < user.length; r++) {
    if (!click[r]) continue;
    const key = user[r] * numItems + item[r];
    if (seen.has(key)) continue;
    seen.add(key);
    users.push(user[r]);
    items.push(item[r]);
  }
  return { numUsers, numItems, user: Int32Array.from(users), item: Int32Array.from(items) };
}

/**
 * θ_i from a log's pscore column, which must be the same on every row of an item (exposure that
 * depends on the item only, as the simulator's); items never logged get θ = 0.
 */
function itemPropensity(logged: LoggedInteractions, numItems: number, source: string): ExposurePropensity {
  const theta = new Float32Array(numItems).fill(Number.NaN);
  const p = logged.propensity!;
  for (let r = 0; r < p.length; r++) {
    const i = logged.log.item[r];
    if (Number.isNaN(theta[i])) theta[i] = p[r];
    else if (Math.abs(theta[i] - p[r]) > 1e-6)
      throw new ConfigError(`${source}: pscore`, `expected one exposure propensity per item, found ${theta[i]} and ${p[r]} for item ${i}: use estimated propensities`);
  }
  return ExposurePropensity.perItem(theta.map((t) => (Number.isNaN(t) ? 0 : t)));
}

function concat(chunks: LoggedInteractions[]): LoggedInteractions {
  const join = <T extends Int32Array | Uint8Array | Float32Array>(parts: T[]): T => {
    const out = new (parts[0].constructor as new (n: number) => T)(parts.reduce((s, a) => s + a.length, 0));
    let offset = 0;
    for (const a of parts) {
      out.set(a, offset);
      offset += a.length;
    }
    return out;
  };
  return {
    log: { user: join(chunks.map((c) => c.log.user)), item: join(chunks.map((c) => c.log.item)), click: join(chunks.map((c) => c.log.click)) },
    propensity: join(chunks.map((c) => c.propensity!)),
  };
}
