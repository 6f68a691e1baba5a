import { ConfigError } from '../../core/errors.js';
import { confidenceHalfWidth, mean } from '../../evaluation/statistics.js';
import { IMPLICIT_LEARNERS } from '../../learning/implicit/losses.js';
import { isNbpoLearner, type NbpoLearner } from '../../learning/implicit/nbpo.js';
import { IMPLICIT_TRAIN_DEFAULTS } from '../../learning/implicit/trainer.js';
import type { Progress } from '../../core/progress.js';
import { runRecommenderComparison, type RecommenderDataSpec, type RecommenderLearnerConfig, type TrainingSettings } from './comparison.js';
import { resolveRecommenderSpec, type RecommenderSpec } from '../../simulation/recommender/simulate-log.js';
import type { ChartRequest, StudyKind } from '../study-kind.js';
import { array, checkKeys, integer, number, object, oneOf, string, type Json, type JsonObject } from '../../core/validate.js';

const RECOMMENDER_FIELDS = ['data', 'learners', 'training', 'ks'] as const;
const TRAINING_FIELDS = ['dimension', 'learningRate', 'l2', 'batchSize', 'maxSteps', 'evalEvery', 'patience'] as const;
const DEFAULT_LEARNERS: Json[] = ['mf', 'relmf', { type: 'relmf', clip: 0.1 }];

export interface RecommenderCell {
  readonly data: RecommenderDataSpec;
  readonly learners: readonly RecommenderLearnerConfig[];
  readonly settings: TrainingSettings;
  readonly ks: readonly number[];
  /** Metric names per seed: `<metric>@<k>` on all items, `<metric>@<k>-rare` on rare items. */
  readonly metricNames: readonly string[];
}

/** Scenario names of the library's metrics (its 'DCG (expected)' is the DCG of the true preference probabilities). */
const metricName = (metric: string, k: number, items: 'all' | 'rare') =>
  metric === 'ρ corr' ? 'rho-corr' : metric === 'ρ RMSE' ? 'rho-rmse' : `${metric === 'DCG (expected)' ? 'expected-DCG' : metric}@${k}${items === 'rare' ? '-rare' : ''}`;
/** NBPO-family fields of a learner entry (NbpoSettings), with their lower bounds. */
const NBPO_FIELDS = ['dimension', 'flipDimension', 'learningRate', 'decay', 'l2', 'flipL2', 'batchSize', 'negatives', 'maxEpochs', 'evalEvery', 'patience'] as const;
const NBPO_INTEGER_FIELDS: readonly string[] = ['dimension', 'flipDimension', 'batchSize', 'negatives', 'maxEpochs', 'evalEvery', 'patience'];
const NBPO_NAMES: Record<NbpoLearner, string> = { nbpo: 'NBPO', nbpoo: 'NBPOo', bpo: 'BPO' };

/**
 * Recommender learners from implicit feedback with exposure bias (`runRecommenderComparison`):
 * MF, WMF, Rel-MF (Saito et al., WSDM 2020; clipped and unclipped) and BPO / NBPOo / NBPO (Yu & Qin,
 * SIGIR 2020; learned flip probability ρ checked against 1 − θ_i on worlds) trained on the clicks of a
 * simulated MNAR world or of Coat, scored on a test set free of exposure bias, on all items and
 * on rare items (those with few training clicks), as Rel-MF's tables report them. A world is
 * simulated afresh per seed; on Coat the seed changes the validation split, initialisation and
 * batches. Paired tests pair the seeds.
 */
export const recommenderStudy: StudyKind<RecommenderCell> = {
  name: 'recommender',
  description:
    "MF, WMF, Rel-MF, BPO, NBPOo and NBPO trained on exposure-biased implicit feedback, scored on unbiased test ratings for all and rare items (and NBPO's learned flip probability against the truth on worlds)",
  fields: RECOMMENDER_FIELDS,
  needsBackend: true,
  parse(raw, at) {
    const data = parseData(object(raw.data ?? { kind: 'world' }, at('data')), at('data'));
    const learners = array(raw.learners ?? DEFAULT_LEARNERS, at('learners')).map((l, j) => parseLearner(l, at(`learners[${j}]`)));
    if (learners.length === 0) throw new ConfigError(at('learners'), 'expected at least one learner, found []');
    const twice = learners.findIndex((l, j) => learners.findIndex((o) => o.name === l.name) !== j);
    if (twice >= 0) throw new ConfigError(at(`learners[${twice}].label`), `"${learners[twice].name}" is used twice; give it a distinct "label"`);
    const training = object(raw.training ?? {}, at('training'));
    checkKeys(training, TRAINING_FIELDS, at('training'));
    const D = IMPLICIT_TRAIN_DEFAULTS;
    const settings: TrainingSettings = {
      dimension: integer(training.dimension, at('training.dimension'), D.dimension, 1),
      learningRate: number(training.learningRate, at('training.learningRate'), D.learningRate, 0, Infinity, true),
      l2: number(training.l2, at('training.l2'), D.l2, 0),
      batchSize: integer(training.batchSize, at('training.batchSize'), D.batchSize, 1),
      maxSteps: integer(training.maxSteps, at('training.maxSteps'), D.maxSteps, 1),
      evalEvery: integer(training.evalEvery, at('training.evalEvery'), D.evalEvery, 1),
      patience: integer(training.patience, at('training.patience'), D.patience, 0),
    };
    const ks = array(raw.ks ?? [1, 3, 5], at('ks')).map((k, j) => integer(k, at(`ks[${j}]`), undefined, 1));
    if (ks.length === 0) throw new ConfigError(at('ks'), 'expected at least one cutoff k, found []');
    const base = data.kind === 'world' ? ['DCG', 'Recall', 'MAP', 'DCG (expected)'] : ['DCG', 'Recall', 'MAP'];
    const metricNames = (['all', 'rare'] as const).flatMap((items) => base.flatMap((m) => ks.map((k) => metricName(m, k, items))));
    // NBPO's learned flip probability against the world's true 1 − θ_i (worlds only).
    if (data.kind === 'world' && learners.some((l) => l.learner === 'nbpo' || l.learner === 'nbpoo')) metricNames.push('rho-corr', 'rho-rmse');
    return { data, learners, settings, ks, metricNames };
  },
  methods: (spec) => spec.learners.map((l) => l.name),
  metrics: (spec) => [...spec.metricNames],
  primaryMetric: (spec) => ({ name: metricName('DCG', spec.ks[spec.ks.length - 1], 'all'), higherIsBetter: true }),
  defaultBaseline: (spec) => (spec.learners.some((l) => l.name === 'MF') ? 'MF' : spec.learners[0].name),
  workUnits: (spec) => spec.learners.length,
  async runSeed(spec, seed, { onUnit }) {
    const rows = await runRecommenderComparison({ data: spec.data, learners: spec.learners, seeds: [seed], settings: spec.settings, ks: spec.ks, progress: unitProgress(onUnit) });
    return { values: rows.map((r) => ({ method: r.learner, metric: metricName(r.metric, r.k, r.items), value: r.value })) };
  },
  charts(cells) {
    const k = cells[0].spec.ks[cells[0].spec.ks.length - 1];
    // On simulated worlds also the DCG of the true preference probabilities (no test-label noise).
    const metrics = cells.every((c) => c.spec.data.kind === 'world') ? ['DCG', 'DCG (expected)', 'Recall', 'MAP'] : ['DCG', 'Recall', 'MAP'];
    const label = (metric: string) => metricName(metric, k, 'all');
    const rows = cells.flatMap((cell) =>
      cell.spec.learners.flatMap((learner) =>
        metrics.flatMap((metric) =>
          (['all', 'rare'] as const).map((items) => {
            const values = cell.outcomes.map((o) => o.values.find((v) => v.method === learner.name && v.metric === metricName(metric, k, items))!.value);
            const m = mean(values);
            const h = values.length > 1 ? confidenceHalfWidth(values) : 0;
            return { cell: cell.label, learner: learner.name, metric: label(metric), items: `${items} items`, mean: m, lo: m - h, hi: m + h };
          }),
        ),
      ),
    );
    const chart: ChartRequest = {
      name: 'metrics-all-vs-rare',
      title: `Ranking metrics @${k} per learner, on all items and on rare items`,
      caption: `Mean over ${cells[0].seeds.length} seeds with 95% t-intervals. Rare items are those with few training clicks (Rel-MF's split); the exposure-debiased learners should gain most there.${metrics.length > 3 ? ' expected-DCG scores the ranking against the true preference probabilities of the simulated world.' : ''}`,
      spec: {
        data: { values: rows },
        facet: {
          column: { field: 'metric', type: 'nominal', sort: metrics.map(label), title: null },
          ...(cells.length > 1 ? { row: { field: 'cell', type: 'nominal', sort: cells.map((c) => c.label), title: null } } : {}),
        },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 200,
          height: 200,
          encoding: {
            x: { field: 'learner', type: 'nominal', sort: null, title: null, axis: { labelAngle: -30 } },
            xOffset: { field: 'items', type: 'nominal' },
          },
          layer: [
            { mark: 'bar', encoding: { y: { field: 'mean', type: 'quantitative', title: null }, color: { field: 'items', type: 'nominal', title: null } } },
            { mark: { type: 'errorbar', ticks: true, color: 'black' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
          ],
        },
      },
    };
    return [chart];
  },
};

function parseData(raw: JsonObject, path: string): RecommenderDataSpec {
  const kind = oneOf(raw.kind, ['world', 'coat'] as const, `${path}.kind`, 'world');
  if (kind === 'coat') {
    checkKeys(raw, ['kind', 'folder'], path);
    return { kind, folder: raw.folder === undefined ? undefined : string(raw.folder, `${path}.folder`) };
  }
  checkKeys(raw, ['kind', 'world', 'testUsers', 'testItemsPerUser'], path);
  const world = object(raw.world ?? {}, `${path}.world`) as RecommenderSpec;
  // Validated as the comparison will resolve it (its defaults: 2,000 users × 500 items, 100 exposures per user).
  const items = world.items ?? 500;
  resolveRecommenderSpec({ users: 2000, items, meanPreference: 0.1, ...world, exposure: { expectedExposures: Math.min(100, items), ...world.exposure } }, `${path}.world`);
  return {
    kind,
    spec: world,
    testUsers: raw.testUsers === undefined ? undefined : integer(raw.testUsers, `${path}.testUsers`, undefined, 1),
    testItemsPerUser: integer(raw.testItemsPerUser, `${path}.testItemsPerUser`, 50, 1),
  };
}

function parseLearner(raw: Json, path: string): RecommenderLearnerConfig {
  const spec = typeof raw === 'string' ? { type: raw } : object(raw, path);
  checkKeys(spec, ['type', 'propensity', 'clip', 'confidence', 'label', ...NBPO_FIELDS], path);
  const learner = oneOf(spec.type, IMPLICIT_LEARNERS, `${path}.type`, undefined);
  if (isNbpoLearner(learner)) {
    checkKeys(spec, ['type', 'label', ...NBPO_FIELDS], path);
    const nbpo: Record<string, number> = {};
    for (const field of NBPO_FIELDS) {
      if (spec[field] === undefined) continue;
      nbpo[field] = NBPO_INTEGER_FIELDS.includes(field)
        ? integer(spec[field], `${path}.${field}`, undefined, field === 'patience' ? 0 : 1)
        : number(spec[field], `${path}.${field}`, undefined, 0, field === 'decay' ? 1 : Infinity, field === 'learningRate' || field === 'decay');
    }
    return { name: spec.label !== undefined ? string(spec.label, `${path}.label`) : NBPO_NAMES[learner], learner, nbpo };
  }
  const allowed: Record<string, readonly string[]> = { mf: ['type', 'label'], wmf: ['type', 'confidence', 'label'], relmf: ['type', 'propensity', 'clip', 'label'] };
  checkKeys(spec, allowed[learner], path);
  const propensity = oneOf(spec.propensity, ['given', 'estimated'] as const, `${path}.propensity`, 'estimated');
  const clip = number(spec.clip, `${path}.clip`, 0, 0, 1);
  const confidence = spec.confidence === undefined ? undefined : number(spec.confidence, `${path}.confidence`, undefined, 0);
  const name =
    spec.label !== undefined
      ? string(spec.label, `${path}.label`)
      : learner === 'mf'
        ? 'MF'
        : learner === 'wmf'
          ? 'WMF'
          : `Rel-MF${propensity === 'given' ? ' (θ given)' : ''}${clip > 0 ? ` M=${clip}` : ''}`;
  return { name, learner, propensity, clip, confidence };
}

/** Reports each learner's end of training (the comparison's progress finishes once per learner) as a unit. */
function unitProgress(onUnit: (detail: string) => void): Progress {
  let label = '';
  return { start: (l) => void (label = l), update() {}, finish: () => onUnit(label), log() {} };
}
