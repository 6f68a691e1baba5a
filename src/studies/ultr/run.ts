import { randomStream, type RandomStream } from '../../core/random.js';
import { ClickLabError } from '../../core/errors.js';
import type { ClickLog, RankingData } from '../../core/types.js';
import { parseMetric, perQueryMetric, type MetricSpec } from '../../evaluation/metrics.js';
import { trainFromClicks, type ClickLearnerSpec } from '../../learning/click-learners.js';
import { ScoringModel, type Scorer } from '../../learning/model.js';
import { estimatePropensitiesByHarvesting, estimatePropensitiesFromShuffle, estimatePropensitiesFromSwaps } from '../../learning/propensity-estimation.js';
import { labelBatches } from '../../learning/batches.js';
import { trainLoggingRanker } from '../../learning/logging-ranker.js';
import { listwiseObjective } from '../../learning/objectives.js';
import { train } from '../../learning/trainer.js';
import { rankByScores } from '../../policies/ranking.js';
import type { ClickModel } from '../../simulation/click-model.js';
import { PositionBasedModel } from '../../simulation/click-models/pbm.js';
import { clickModelBias, defaultTrustParameters, TrustBiasModel } from '../../simulation/click-models/index.js';
import { examinationProbabilities } from '../../simulation/examination.js';
import { gradedRelevanceTable, relevanceProbabilities } from '../../simulation/relevance.js';
import { simulateSessions, type DisplayedLists } from '../../simulation/sessions.js';
import type { LearnerSpec, Scenario } from './scenario.js';
import { mean } from '../../evaluation/statistics.js';

/** The data a scenario runs on: training queries, and validation/test queries kept for evaluation. */
export interface PreparedData {
  readonly train: RankingData;
  /** Validation queries that have a relevant document (the others cannot be scored by nDCG). */
  readonly validation: RankingData;
  /** Test queries that have a relevant document. */
  readonly test: RankingData;
  /** The highest grade in the data set (ymax of the relevance mapping and of ERR). */
  readonly maxGrade: number;
}

/** What one method achieved in one seed. */
export interface MethodRun {
  readonly method: string;
  /** Metric name → value per test query (same query order for every method). */
  readonly perQuery: Record<string, number[]>;
  /** Propensities relative to rank 1 that the method used or learned (IPS, DLA). */
  readonly propensities?: number[];
}

export interface SeedRun {
  readonly seed: number;
  readonly methods: MethodRun[];
  /** Share of simulated sessions with at least one click. */
  readonly sessionsWithClicks: number;
  /** The propensity estimate of `propensityEstimation` (relative to rank 1), when a learner needed it. */
  readonly estimatedPropensities?: number[];
}

export interface SeedOptions {
  /** Called after each method has been trained and evaluated. */
  readonly onTrained?: (method: string) => void;
}

/** A seed's simulated world: the logging ranker's lists, the click model, and the click log. */
export interface SeedLog {
  readonly displayed: DisplayedLists;
  readonly clickModel: ClickModel;
  /** True examination propensities relative to rank 1. */
  readonly truePropensities: number[];
  /** The affine click parameters, absolute per rank: P(C_k = 1) = α_k P(R = 1) + β_k (PBM: α = κ, β = 0). */
  readonly alpha: number[];
  readonly beta: number[];
  /** P(click | examined) (PBM) or P(relevant) (trust bias) per training document. */
  readonly relevance: Float32Array;
  readonly log: ClickLog;
}

/** The scenario's click model (PBM or trust bias) over its examination profile, with its affine form. */
export function scenarioClickModel(cm: Scenario['clickModel']): { clickModel: ClickModel; truePropensities: number[]; alpha: number[]; beta: number[] } {
  const examination = examinationProbabilities({ profile: cm.examination, eta: cm.eta }, cm.cutoff);
  const trust = defaultTrustParameters(cm.cutoff);
  const clickModel = cm.type === 'trust-bias' ? new TrustBiasModel(examination, trust.epsilonPlus, trust.epsilonMinus) : new PositionBasedModel(examination);
  const { propensities, alpha, beta } = clickModelBias(clickModel, cm.cutoff, 'clickModel');
  return { clickModel, truePropensities: propensities, alpha, beta };
}

/**
 * Steps 1 and 2 of the protocol for one seed: the logging ranker (returned, for evaluation) and the
 * click log of `scenario.sessions` sessions on its top-`cutoff` lists. `clicklab train` uses it to
 * learn from the same log a scenario run would.
 */
export function simulateSeedLog(scenario: Scenario, data: PreparedData, seed: number): SeedLog & { logger: ScoringModel } {
  const rng = randomStream(seed);
  const cm = scenario.clickModel;
  const maxGrade = cm.maxGrade ?? data.maxGrade;
  const relevance = relevanceProbabilities(data.train.labels, gradedRelevanceTable({ epsilon: cm.epsilon, maxGrade }));
  const logger = trainLoggingRanker(data.train, scenario.loggingRanker, scenario.training, rng.derive('logging'));
  const displayed = rankByScores(data.train, logger.scoreArray(data.train.features), cm.cutoff);
  const model = scenarioClickModel(cm);
  const { log } = simulateSessions(displayed, { numSessions: scenario.sessions, clickModel: model.clickModel, relevance, rng: rng.derive('sessions') });
  return { ...model, displayed, relevance, log, logger };
}

/**
 * Estimate the propensities relative to rank 1 as `scenario.propensityEstimation` says, from a
 * separate log: a RandTop-n (shuffle) or RandPair (swap) intervention on the logging ranker's
 * lists, or the logs of several logging rankers (each trained on its own 1% sample), harvested.
 */
export function estimateScenarioPropensities(scenario: Scenario, data: PreparedData, seed: number, world: SeedLog): number[] {
  const rng = randomStream(seed).derive('intervention');
  const { intervention, sessions, rankers } = scenario.propensityEstimation;
  const cutoff = scenario.clickModel.cutoff;
  const simulate = (displayed: DisplayedLists, stream: RandomStream, kind: 'none' | 'shuffle' | 'swap') =>
    simulateSessions(displayed, { numSessions: sessions, clickModel: world.clickModel, relevance: world.relevance, rng: stream, intervention: kind, truth: false }).log;
  if (intervention === 'shuffle') return estimatePropensitiesFromShuffle(simulate(world.displayed, rng, 'shuffle'), cutoff).relative;
  if (intervention === 'swap') return estimatePropensitiesFromSwaps(simulate(world.displayed, rng, 'swap'), world.displayed, cutoff).relative;
  const logs = Array.from({ length: rankers }, (_, r) => {
    const logger = trainLoggingRanker(data.train, scenario.loggingRanker, scenario.training, rng.derive('ranker', r));
    const displayed = rankByScores(data.train, logger.scoreArray(data.train.features), cutoff);
    logger.dispose();
    return simulate(displayed, rng.derive('ranker', r, 'sessions'), 'none');
  });
  return estimatePropensitiesByHarvesting(logs, { numRanks: cutoff }).relative;
}

/**
 * Run the standard semi-synthetic ULTR protocol for one seed:
 * 1. a linear logging ranker is trained on the true labels of a random `trainFraction` of the
 *    training queries (or lines) and ranks every training query's candidates; users see the top `cutoff`;
 * 2. `sessions` sessions draw a training query uniformly and click under the PBM
 *    P(click at rank k) = v_k^η · (ε + (1 − ε)(2^y − 1)/(2^ymax − 1)), or under trust bias;
 * 3. every learner (and the skyline, on true labels) trains a fresh model from the same seeded
 *    initialisation, and is scored on the test queries' true labels over full candidate lists.
 */
export function runSeed(scenario: Scenario, data: PreparedData, seed: number, options: SeedOptions = {}): SeedRun {
  const rng = randomStream(seed);
  const { training } = scenario;
  const metrics = scenario.metrics.map((m) => parseMetric(m));
  const selection = parseMetric('ndcg@10');
  const methods: MethodRun[] = [];
  const evaluate = (method: string, model: ScoringModel, propensities?: number[]) => {
    methods.push({ method, perQuery: evaluateModel(model, data.test, metrics, data.maxGrade), propensities });
    options.onTrained?.(method);
  };

  // 1–2. The logging ranker and the click log (and, when a learner needs it, a separate estimate of the propensities).
  const world = simulateSeedLog(scenario, data, seed);
  evaluate('logging', world.logger);
  world.logger.dispose();
  const { log, truePropensities } = world;
  const estimated = scenario.learners.some((l) => l.propensities === 'estimated') ? estimateScenarioPropensities(scenario, data, seed, world) : undefined;

  // 3. The learners, all from the same initial weights.
  const trainOptions = (label: string) => ({
    steps: training.steps,
    batchSize: training.batchSize,
    learningRate: training.learningRate,
    clipNorm: training.clipNorm,
    evalEvery: training.evalEvery,
    rng: rng.derive('learner', label, 'batches'),
    label: `seed ${seed} ${label}`,
  });
  const newModel = () => new ScoringModel(scenario.model, data.train.numFeatures, rng.derive('model', 'init'));
  // The trainer passes the model it trains (the doubly robust learner's regression model, then its ranker).
  const validate = training.select === 'validation' ? (m: Scorer) => mean(evaluateModel(m as ScoringModel, data.validation, [selection], data.maxGrade)[selection.name]) : undefined;
  {
    const model = newModel();
    train(model, listwiseObjective(), labelBatches(data.train, training.batchSize), { ...trainOptions('skyline'), validate });
    evaluate('skyline', model);
    model.dispose();
  }
  for (const learner of scenario.learners) {
    const model = newModel();
    const spec = clickLearnerSpec(learner, truePropensities, estimated, world);
    const result = trainFromClicks(model, spec, data.train, log, { ...trainOptions(learner.label), validate });
    evaluate(learner.label, model, result.propensities);
    model.dispose();
  }

  return { seed, methods, sessionsWithClicks: shareWithClicks(log), estimatedPropensities: estimated };
}

/** What a scenario learner needs to know: oracle or estimated propensities, the affine click parameters. */
function clickLearnerSpec(learner: LearnerSpec, oracle: number[], estimated: number[] | undefined, world: SeedLog): ClickLearnerSpec {
  const propensities = learner.propensities === 'estimated' ? estimated : oracle;
  if (!propensities) throw new Error('estimated propensities were not computed'); // runSeed computes them whenever a learner asks
  if (learner.type === 'ips' || learner.type === 'clipped-ips') {
    const zero = propensities.findIndex((p) => !(p > 0));
    if (zero >= 0) throw new ClickLabError(`the estimated propensity at rank ${zero + 1} is ${propensities[zero]}: raise propensityEstimation.sessions`);
  }
  return {
    type: learner.type,
    propensities,
    maxWeight: learner.maxWeight === Infinity ? undefined : learner.maxWeight,
    maxRelevanceWeight: learner.maxRelevanceWeight ?? undefined,
    propensityLearningRate: learner.propensityLearningRate ?? undefined,
    alpha: world.alpha,
    beta: world.beta,
    clickModel: learner.clickModel?.model,
    emIterations: learner.clickModel?.iterations,
  };
}

function shareWithClicks(log: ClickLog): number {
  const numSessions = log.sessionQuery.length;
  let clicked = 0;
  for (let s = 0; s < numSessions; s++) {
    for (let r = log.sessionOffsets[s]; r < log.sessionOffsets[s + 1]; r++) {
      if (log.click[r]) {
        clicked++;
        break;
      }
    }
  }
  return clicked / numSessions;
}

/** Per-query test metrics of a model (query order of `data`). */
export function evaluateModel(model: ScoringModel, data: RankingData, metrics: MetricSpec[], maxGrade: number): Record<string, number[]> {
  const scores = model.scoreArray(data.features);
  return Object.fromEntries(metrics.map((m) => [m.name, Array.from(perQueryMetric(data, scores, m, maxGrade))]));
}
