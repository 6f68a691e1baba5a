import { ConfigError } from '../../core/errors.js';
import { EXAMINATION_PROFILES, type ExaminationProfile } from '../../simulation/examination.js';
import { parseMetric } from '../../evaluation/metrics.js';
import { DEFAULT_EM_ITERATIONS } from '../../fitting/fit.js';
import { FITTED_MODEL_TYPES, fittedModelName, type FittedModelType } from '../../fitting/registry.js';
import { CLICK_LEARNER_TYPES, type ClickLearnerType } from '../../learning/click-learners.js';
import type { ModelSpec } from '../../learning/model.js';
import type { LoggingRankerSpec } from '../../learning/logging-ranker.js';
import { array, checkKeys, fitsInMemory, integer, number, object, oneOf, readJsonFile, string, type Json, type JsonObject } from '../../core/validate.js';

/**
 * A scenario: one declarative, versioned experiment (`sim/*.json`). Version 1 describes the
 * standard semi-synthetic ULTR protocol on a LETOR data set; every field is documented in the
 * README ("Scenario files").
 */
export const SCENARIO_SCHEMA = 'clicklab/scenario@1';

export interface LearnerSpec {
  readonly type: ClickLearnerType;
  /** Name in result tables (default: derived from type and options). */
  readonly label: string;
  /** For IPS: the true (oracle) propensities, or those estimated by `propensityEstimation`. */
  readonly propensities: 'oracle' | 'estimated';
  /** Weight cap M for clipped IPS (required) and DLA (optional). */
  readonly maxWeight: number;
  /** DLA: learning rate of the propensity model (default: the ranker's). */
  readonly propensityLearningRate: number | null;
  /** DLA: cap on the relevance weights r_1/r_k of the examination loss (default: maxWeight). */
  readonly maxRelevanceWeight: number | null;
  /** click-model: the click model fitted to the training log by EM, and its iterations (null for other learners). */
  readonly clickModel: { readonly model: FittedModelType; readonly iterations: number } | null;
}

export interface Scenario {
  readonly schema: typeof SCENARIO_SCHEMA;
  readonly name: string;
  readonly description: string;
  readonly dataset:
    | { readonly name: 'mq2008'; readonly fold: number }
    | { readonly name: 'letor'; readonly train: string; readonly validation: string; readonly test: string; readonly normalization: 'per-feature' | 'per-query' | 'none' };
  readonly loggingRanker: LoggingRankerSpec;
  readonly clickModel: {
    /** `trust-bias`: Vardasbi et al.'s ε⁺_k, ε⁻_k on top of the examination (epsilon then maps grades to P(relevant)). */
    readonly type: 'pbm' | 'trust-bias';
    readonly examination: ExaminationProfile;
    readonly eta: number;
    readonly epsilon: number;
    /** Highest grade for the relevance mapping (default: the data set's highest label). */
    readonly maxGrade: number | null;
    readonly cutoff: number;
  };
  readonly sessions: number;
  /**
   * How `"propensities": "estimated"` is estimated: `shuffle` (RandTop-n), `swap` (RandPair), or
   * `harvest` (intervention harvesting from the logs of `rankers` logging rankers, no intervention).
   */
  readonly propensityEstimation: { readonly intervention: 'shuffle' | 'swap' | 'harvest'; readonly sessions: number; readonly rankers: number };
  readonly model: ModelSpec;
  readonly training: {
    readonly steps: number;
    readonly batchSize: number;
    readonly learningRate: number;
    readonly clipNorm: number;
    readonly evalEvery: number;
    /** `validation`: keep the weights with the best validation nDCG@10 on true labels (ULTRA); `last`: the final weights. */
    readonly select: 'validation' | 'last';
  };
  readonly learners: readonly LearnerSpec[];
  readonly metrics: readonly string[];
  readonly seeds: readonly number[];
}

/** Command-line overrides of a scenario file, validated like the file itself. */
export interface ScenarioOverrides {
  /** A shipped data set by name (`mq2008`). */
  readonly dataset?: string;
  readonly fold?: number;
  readonly seeds?: readonly number[];
}

export function loadScenario(file: string, overrides: ScenarioOverrides = {}): Scenario {
  let raw = readJsonFile(file, 'scenario');
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const dataset = { ...((raw.dataset as JsonObject | undefined) ?? { name: 'mq2008' }) };
    if (overrides.dataset !== undefined) {
      for (const key of Object.keys(dataset)) delete dataset[key];
      dataset.name = overrides.dataset;
    }
    if (overrides.fold !== undefined) dataset.fold = overrides.fold;
    raw = { ...raw, dataset, ...(overrides.seeds && overrides.seeds.length > 0 ? { seeds: [...overrides.seeds] } : {}) };
  }
  return parseScenario(raw, file);
}

/** Validate a parsed scenario and fill in defaults; every error names the field's path. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const root = object(raw as Json, source);
  const at = (path: string) => `${source}: ${path}`;
  checkKeys(
    root,
    ['$comment', 'schema', 'name', 'description', 'dataset', 'loggingRanker', 'clickModel', 'sessions', 'propensityEstimation', 'model', 'training', 'learners', 'metrics', 'seeds'],
    source,
  );
  const schema = root.schema ?? SCENARIO_SCHEMA;
  if (schema !== SCENARIO_SCHEMA) throw new ConfigError(at('schema'), `expected "${SCENARIO_SCHEMA}", found ${JSON.stringify(schema)}`);

  const datasetRaw = object(root.dataset ?? { name: 'mq2008' }, at('dataset'));
  const datasetName = oneOf(datasetRaw.name, ['mq2008', 'letor'] as const, at('dataset.name'), undefined);
  let dataset: Scenario['dataset'];
  if (datasetName === 'mq2008') {
    checkKeys(datasetRaw, ['name', 'fold'], at('dataset'));
    dataset = { name: 'mq2008', fold: integer(datasetRaw.fold, at('dataset.fold'), 1, 1, 5) };
  } else {
    checkKeys(datasetRaw, ['name', 'train', 'validation', 'test', 'normalization'], at('dataset'));
    dataset = {
      name: 'letor',
      train: string(datasetRaw.train, at('dataset.train')),
      validation: string(datasetRaw.validation, at('dataset.validation')),
      test: string(datasetRaw.test, at('dataset.test')),
      normalization: oneOf(datasetRaw.normalization, ['per-feature', 'per-query', 'none'] as const, at('dataset.normalization'), 'per-feature'),
    };
  }

  const logging = object(root.loggingRanker ?? {}, at('loggingRanker'));
  checkKeys(logging, ['trainFraction', 'sample', 'steps'], at('loggingRanker'));
  const click = object(root.clickModel ?? {}, at('clickModel'));
  checkKeys(click, ['type', 'examination', 'eta', 'epsilon', 'maxGrade', 'cutoff'], at('clickModel'));
  const estimation = object(root.propensityEstimation ?? {}, at('propensityEstimation'));
  checkKeys(estimation, ['intervention', 'sessions', 'rankers'], at('propensityEstimation'));
  const model = object(root.model ?? {}, at('model'));
  checkKeys(model, ['type', 'hidden'], at('model'));
  const training = object(root.training ?? {}, at('training'));
  checkKeys(training, ['steps', 'batchSize', 'learningRate', 'clipNorm', 'evalEvery', 'select'], at('training'));

  const learnersRaw = array(root.learners ?? ['naive', 'ips', 'dla'], at('learners'));
  const learners = learnersRaw.map((entry, i) => learner(entry, at(`learners[${i}]`)));
  const labels = new Set<string>();
  for (const [i, l] of learners.entries()) {
    if (labels.has(l.label) || l.label === 'logging' || l.label === 'skyline') {
      throw new ConfigError(at(`learners[${i}].label`), `"${l.label}" is used twice (or is a reserved name: logging, skyline); give it a distinct "label"`);
    }
    labels.add(l.label);
  }
  const metrics = array(root.metrics ?? ['ndcg@1', 'ndcg@3', 'ndcg@5', 'ndcg@10', 'err@10'], at('metrics')).map((m, i) => {
    const name = string(m, at(`metrics[${i}]`));
    parseMetric(name, at(`metrics[${i}]`));
    return name;
  });
  const seeds = array(root.seeds ?? [1, 2, 3], at('seeds')).map((s, i) => integer(s, at(`seeds[${i}]`), undefined, 0));
  if (seeds.length === 0) throw new ConfigError(at('seeds'), 'expected at least one seed');
  if (new Set(seeds).size !== seeds.length) throw new ConfigError(at('seeds'), `seeds must be distinct, found ${JSON.stringify(seeds)}`);

  const modelType = oneOf(model.type, ['linear', 'mlp'] as const, at('model.type'), 'mlp');
  return {
    schema: SCENARIO_SCHEMA,
    name: string(root.name, at('name')),
    description: root.description === undefined ? '' : string(root.description, at('description')),
    dataset,
    loggingRanker: {
      trainFraction: number(logging.trainFraction, at('loggingRanker.trainFraction'), 0.01, 0, 1, true),
      sample: oneOf(logging.sample, ['queries', 'lines'] as const, at('loggingRanker.sample'), 'queries'),
      steps: integer(logging.steps, at('loggingRanker.steps'), 300, 1),
    },
    clickModel: {
      type: oneOf(click.type, ['pbm', 'trust-bias'] as const, at('clickModel.type'), 'pbm'),
      examination: oneOf(click.examination, EXAMINATION_PROFILES, at('clickModel.examination'), 'eye-tracking'),
      eta: number(click.eta, at('clickModel.eta'), 1, 0),
      epsilon: number(click.epsilon, at('clickModel.epsilon'), 0.1, 0, 1),
      maxGrade: click.maxGrade === undefined || click.maxGrade === null ? null : integer(click.maxGrade, at('clickModel.maxGrade'), undefined, 1),
      cutoff: integer(click.cutoff, at('clickModel.cutoff'), 10, 1),
    },
    sessions: fitsInMemory(integer(root.sessions, at('sessions'), 100_000, 1), integer(click.cutoff, at('clickModel.cutoff'), 10, 1), at('sessions'), 'sessions'),
    propensityEstimation: {
      intervention: oneOf(estimation.intervention, ['shuffle', 'swap', 'harvest'] as const, at('propensityEstimation.intervention'), 'shuffle'),
      sessions: fitsInMemory(
        integer(estimation.sessions, at('propensityEstimation.sessions'), 100_000, 1),
        integer(click.cutoff, at('clickModel.cutoff'), 10, 1),
        at('propensityEstimation.sessions'),
        'sessions',
      ),
      rankers: integer(estimation.rankers, at('propensityEstimation.rankers'), 4, 2),
    },
    model: modelType === 'mlp' ? { type: 'mlp', hidden: array(model.hidden ?? [64, 32], at('model.hidden')).map((h, i) => integer(h, at(`model.hidden[${i}]`), undefined, 1)) } : { type: 'linear' },
    training: {
      steps: integer(training.steps, at('training.steps'), 2000, 1),
      batchSize: integer(training.batchSize, at('training.batchSize'), 256, 1),
      learningRate: number(training.learningRate, at('training.learningRate'), 0.05, 0, Infinity, true),
      clipNorm: number(training.clipNorm, at('training.clipNorm'), 5, 0),
      evalEvery: integer(training.evalEvery, at('training.evalEvery'), 100, 1),
      select: oneOf(training.select, ['validation', 'last'] as const, at('training.select'), 'validation'),
    },
    learners,
    metrics,
    seeds,
  };
}

function learner(entry: Json, path: string): LearnerSpec {
  const raw = typeof entry === 'string' ? { type: entry } : object(entry, path);
  checkKeys(raw, ['type', 'label', 'propensities', 'maxWeight', 'maxRelevanceWeight', 'propensityLearningRate', 'model', 'iterations'], path);
  const type = oneOf(raw.type, CLICK_LEARNER_TYPES, `${path}.type`, undefined);
  const propensities = oneOf(raw.propensities, ['oracle', 'estimated'] as const, `${path}.propensities`, 'oracle');
  if (raw.propensities !== undefined && type !== 'ips' && type !== 'clipped-ips') {
    throw new ConfigError(`${path}.propensities`, `only IPS learners take propensities; "${type}" learns or ignores them`);
  }
  if (type === 'clipped-ips' && raw.maxWeight === undefined) throw new ConfigError(`${path}.maxWeight`, 'clipped IPS needs a weight cap M, e.g. 5');
  if (raw.maxWeight !== undefined && type !== 'clipped-ips' && type !== 'dla') {
    throw new ConfigError(`${path}.maxWeight`, `only clipped-ips and dla take a weight cap; use "clipped-ips" for a capped IPS`);
  }
  const maxWeight = number(raw.maxWeight, `${path}.maxWeight`, Infinity, 1);
  if (raw.propensityLearningRate !== undefined && type !== 'dla') {
    throw new ConfigError(`${path}.propensityLearningRate`, 'only dla learns a propensity model');
  }
  if (raw.maxRelevanceWeight !== undefined && type !== 'dla') {
    throw new ConfigError(`${path}.maxRelevanceWeight`, 'only dla weighs clicks by relevance estimates');
  }
  const maxRelevanceWeight = raw.maxRelevanceWeight === undefined ? null : number(raw.maxRelevanceWeight, `${path}.maxRelevanceWeight`, undefined, 1);
  const propensityLearningRate = raw.propensityLearningRate === undefined ? null : number(raw.propensityLearningRate, `${path}.propensityLearningRate`, undefined, 0, Infinity, true);
  for (const key of ['model', 'iterations'] as const) {
    if (raw[key] !== undefined && type !== 'click-model') throw new ConfigError(`${path}.${key}`, `only the click-model learner fits a click model; "${type}" takes no "${key}"`);
  }
  const clickModel =
    type === 'click-model'
      ? { model: oneOf(fittedModelName(raw.model), FITTED_MODEL_TYPES, `${path}.model`, 'pbm'), iterations: integer(raw.iterations, `${path}.iterations`, DEFAULT_EM_ITERATIONS, 1) }
      : null;
  const defaultLabel = clickModel
    ? `click-model:${clickModel.model}`
    : type + (propensities === 'estimated' ? '-estimated' : '') + (type === 'clipped-ips' || (type === 'dla' && maxWeight !== Infinity) ? `@${maxWeight}` : '');
  return { type, label: raw.label === undefined ? defaultLabel : string(raw.label, `${path}.label`), propensities, maxWeight, maxRelevanceWeight, propensityLearningRate, clickModel };
}
