import type { Progress } from '../core/progress.js';
import { silentProgress } from '../core/progress.js';
import { randomStream, type RandomStream } from '../core/random.js';
import { ClickLabError } from '../core/errors.js';
import type { ClickLog, RankingData } from '../core/types.js';
import { parseMetric, perQueryMetric, type MetricSpec } from '../evaluation/metrics.js';
import { clickBatches, groupRowsByQuery, labelBatches, queryLists, type BatchSource } from '../learning/batches.js';
import { ScoringModel } from '../learning/model.js';
import { dlaObjective, ipsObjective, listwiseObjective, type Objective } from '../learning/objectives.js';
import { estimatePropensitiesFromShuffle } from '../learning/propensity-estimation.js';
import { train, type TrainingHistory } from '../learning/trainer.js';
import { rankByScores } from '../policies/ranking.js';
import { PositionBasedModel } from '../simulation/click-model.js';
import { examinationProbabilities, relativeToFirst } from '../simulation/examination.js';
import { gradedRelevanceTable, relevanceProbabilities } from '../simulation/relevance.js';
import { simulateSessions } from '../simulation/sessions.js';
import type { LearnerSpec, Scenario } from './scenario.js';
import { mean } from '../evaluation/statistics.js';

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
  readonly history?: TrainingHistory;
  readonly trainSeconds: number;
}

export interface SeedRun {
  readonly seed: number;
  readonly methods: MethodRun[];
  /** Share of simulated sessions with at least one click. */
  readonly sessionsWithClicks: number;
  /** The RandTop-n estimate, when a learner needed it. */
  readonly estimatedPropensities?: number[];
}

export interface SeedOptions {
  /** Per-training progress (steps, loss, validation). */
  readonly progress?: Progress;
  /** Called after each method has been trained and evaluated. */
  readonly onTrained?: (method: string) => void;
}

/**
 * Run the standard semi-synthetic ULTR protocol for one seed:
 * 1. a linear logging ranker is trained on the true labels of a random `trainFraction` of the
 *    training queries (or lines) and ranks every training query's candidates; users see the top `cutoff`;
 * 2. `sessions` sessions draw a training query uniformly and click under the PBM
 *    P(click at rank k) = v_k^η · (ε + (1 − ε)(2^y − 1)/(2^ymax − 1));
 * 3. every learner (and the skyline, on true labels) trains a fresh model from the same seeded
 *    initialisation, and is scored on the test queries' true labels over full candidate lists.
 */
export function runSeed(scenario: Scenario, data: PreparedData, seed: number, options: SeedOptions = {}): SeedRun {
  const progress = options.progress ?? silentProgress;
  const rng = randomStream(seed);
  const { clickModel: cm, training } = scenario;
  const metrics = scenario.metrics.map((m) => parseMetric(m));
  const selection = parseMetric('ndcg@10');
  const maxGrade = cm.maxGrade ?? data.maxGrade;
  const examination = examinationProbabilities({ profile: cm.examination, eta: cm.eta }, cm.cutoff);
  const truePropensities = Array.from(relativeToFirst(examination));
  const relevance = relevanceProbabilities(data.train.labels, gradedRelevanceTable({ epsilon: cm.epsilon, maxGrade }));
  const clicker = new PositionBasedModel(examination);
  const methods: MethodRun[] = [];
  const evaluate = (method: string, model: ScoringModel, started: number, extra: Partial<MethodRun> = {}) => {
    methods.push({ method, perQuery: evaluateModel(model, data.test, metrics, data.maxGrade), trainSeconds: (performance.now() - started) / 1000, ...extra });
    options.onTrained?.(method);
  };

  // 1. The logging ranker.
  const started = performance.now();
  const logger = trainLoggingRanker(data.train, scenario.loggingRanker, training, rng.derive('logging'));
  const displayed = rankByScores(data.train, logger.scoreArray(data.train.features), cm.cutoff);
  evaluate('logging', logger, started);
  logger.dispose();

  // 2. The click log (and, when a learner needs it, a separate randomised intervention log).
  const { log } = simulateSessions(displayed, { numSessions: scenario.sessions, clickModel: clicker, relevance, rng: rng.derive('sessions') });
  let estimated: number[] | undefined;
  if (scenario.learners.some((l) => l.propensities === 'estimated')) {
    const intervention = simulateSessions(displayed, {
      numSessions: scenario.propensityEstimation.sessions,
      clickModel: clicker,
      relevance,
      rng: rng.derive('intervention'),
      intervention: 'shuffle',
    });
    estimated = estimatePropensitiesFromShuffle(intervention.log, cm.cutoff).relative;
  }

  // 3. The learners, all from the same initial weights.
  const trainOne = (label: string, objective: Objective, source: BatchSource, usedPropensities?: number[]) => {
    const started = performance.now();
    const model = new ScoringModel(scenario.model, data.train.numFeatures, rng.derive('model', 'init'));
    const history = train(model, objective, source, {
      steps: training.steps,
      learningRate: training.learningRate,
      clipNorm: training.clipNorm,
      evalEvery: training.evalEvery,
      validate: training.select === 'validation' ? () => mean(evaluateModel(model, data.validation, [selection], data.maxGrade)[selection.name]) : undefined,
      rng: rng.derive('learner', label, 'batches'),
      progress,
      label: `seed ${seed} ${label}`,
    });
    evaluate(label, model, started, { history, propensities: usedPropensities ?? objective.learnedPropensities?.() });
    model.dispose();
    objective.dispose();
  };
  trainOne('skyline', listwiseObjective(), labelBatches(data.train, training.batchSize));
  const clicks = clickBatches(data.train, log, training.batchSize);
  for (const learner of scenario.learners) {
    const { objective, propensities } = makeObjective(learner, truePropensities, estimated, clicks.listLength);
    trainOne(learner.label, objective, clicks, propensities);
  }

  return { seed, methods, sessionsWithClicks: shareWithClicks(log), estimatedPropensities: estimated };
}

/**
 * The logging ranker: a linear model trained (listwise softmax) on the true labels of a random
 * fraction of the training queries (their full lists) or of the training lines (grouped by query,
 * ULTRA's protocol).
 */
export function trainLoggingRanker(
  data: RankingData,
  spec: Scenario['loggingRanker'],
  training: Pick<Scenario['training'], 'batchSize' | 'learningRate' | 'clipNorm'>,
  rng: RandomStream,
): ScoringModel {
  const sampleRng = rng.derive('sample');
  let lists: Int32Array[];
  if (spec.sample === 'queries') {
    const numQueries = data.queryOffsets.length - 1;
    lists = queryLists(data, sampleRng.sampleWithoutReplacement(numQueries, Math.max(1, Math.round(spec.trainFraction * numQueries))));
  } else {
    const numDocuments = data.labels.length;
    lists = groupRowsByQuery(data, sampleRng.sampleWithoutReplacement(numDocuments, Math.max(1, Math.round(spec.trainFraction * numDocuments))));
  }
  const logger = new ScoringModel({ type: 'linear' }, data.numFeatures, rng.derive('init'));
  train(logger, listwiseObjective(), labelBatches(data, Math.min(training.batchSize, lists.length), lists), {
    steps: spec.steps,
    learningRate: training.learningRate,
    clipNorm: training.clipNorm,
    evalEvery: spec.steps,
    rng: rng.derive('batches'),
  });
  return logger;
}

function makeObjective(learner: LearnerSpec, oracle: number[], estimated: number[] | undefined, listLength: number): { objective: Objective; propensities?: number[] } {
  switch (learner.type) {
    case 'naive':
      return { objective: listwiseObjective() };
    case 'ips':
    case 'clipped-ips': {
      const propensities = learner.propensities === 'estimated' ? estimated : oracle;
      if (!propensities) throw new Error('estimated propensities were not computed'); // runSeed computes them whenever a learner asks
      const zero = propensities.findIndex((p) => !(p > 0));
      if (zero >= 0) {
        throw new ClickLabError(`the RandTop-n estimate of the propensity at rank ${zero + 1} is 0 (no click there): raise propensityEstimation.sessions`);
      }
      return { objective: ipsObjective(propensities, learner.maxWeight), propensities };
    }
    case 'dla':
      return {
        objective: dlaObjective(listLength, {
          maxWeight: learner.maxWeight,
          maxRelevanceWeight: learner.maxRelevanceWeight ?? undefined,
          propensityLearningRate: learner.propensityLearningRate ?? undefined,
        }),
      };
  }
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

