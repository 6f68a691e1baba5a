import { mean, standardDeviation } from '../../evaluation/statistics.js';
import { examinationProbabilities, relativeToFirst } from '../../simulation/examination.js';
import { prepareData } from './prepare-data.js';
import { parseScenario, type Scenario } from './scenario.js';
import type { CellOutcomes, ChartRequest, StudyKind } from '../study-kind.js';
import type { PreparedData } from './run.js';
import { runSeed } from './run.js';

/** The scenario fields of a ULTR study: those of `clicklab/scenario@1` (README, "Scenario files"). */
const ULTR_FIELDS = ['dataset', 'loggingRanker', 'clickModel', 'sessions', 'propensityEstimation', 'model', 'training', 'learners', 'metrics'] as const;

/**
 * Unbiased learning to rank: the semi-synthetic protocol of `runSeed` (logging ranker, PBM clicks,
 * learners trained from clicks, test metrics on true labels). Paired tests run over test queries,
 * each query's value averaged over seeds, as the DLA paper and ULTRA report them.
 */
export const ultrStudy: StudyKind<Scenario> = {
  name: 'ultr',
  description: 'learners trained from simulated clicks on a LETOR data set, scored on its true labels',
  fields: ULTR_FIELDS,
  needsBackend: true,
  parse: (raw, _at, source) => parseScenario({ ...raw, name: 'cell' }, source),
  methods: (spec) => ['logging', 'skyline', ...spec.learners.map((l) => l.label)],
  metrics: (spec) => [...spec.metrics],
  primaryMetric: (spec) => ({ name: spec.metrics.includes('ndcg@10') ? 'ndcg@10' : spec.metrics[0], higherIsBetter: true }),
  defaultBaseline: (spec) => (spec.learners.some((l) => l.label === 'naive') ? 'naive' : null),
  workUnits: (spec) => 2 + spec.learners.length, // logging ranker, skyline, learners
  async runSeed(spec, seed, { cache, onUnit }) {
    // Workers keep the loaded data set between cells: a grid rarely varies it.
    const key = `ultr-data:${JSON.stringify(spec.dataset)}`;
    let data = cache.get(key) as PreparedData | undefined;
    if (!data) cache.set(key, (data = prepareData(spec)));
    const run = runSeed(spec, data, seed, { onTrained: onUnit });
    const cm = spec.clickModel;
    return {
      values: run.methods.flatMap((m) => spec.metrics.map((metric) => ({ method: m.method, metric, value: mean(m.perQuery[metric]) }))),
      units: Object.fromEntries(run.methods.map((m) => [m.method, m.perQuery])),
      extras: {
        truePropensities: Array.from(relativeToFirst(examinationProbabilities({ profile: cm.examination, eta: cm.eta }, cm.cutoff))),
        estimatedPropensities: run.estimatedPropensities ?? null,
        learnedPropensities: Object.fromEntries(
          run.methods.filter((m) => m.propensities && spec.learners.some((l) => l.label === m.method && LEARNS_PROPENSITIES.has(l.type))).map((m) => [m.method, m.propensities!]),
        ),
        sessionsWithClicks: run.sessionsWithClicks,
      },
    };
  },
  charts(cells) {
    const rows = cells.flatMap((cell) => propensityColumns(cell).flatMap(({ source, mean: values }) => values.map((value, k) => ({ cell: cell.label, rank: k + 1, source, value }))));
    if (!rows.some((r) => r.source !== 'true')) return [];
    const chart: ChartRequest = {
      name: 'propensities',
      title: 'Examination propensities relative to rank 1: estimates against the truth',
      caption:
        'Mean over seeds of the propensities p_k/p_1 that the learners learned (DLA, regression EM, pairwise debiasing) and that the propensityEstimation intervention estimated, against the true values (log scale).',
      spec: {
        data: { values: rows },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'rank', type: 'ordinal', title: 'rank' },
          y: { field: 'value', type: 'quantitative', scale: { type: 'log', nice: false }, title: 'p_k / p_1' },
          color: { field: 'source', type: 'nominal', sort: null, title: null },
          ...(cells.length > 1 ? { facet: { field: 'cell', type: 'nominal', sort: null, title: null, columns: 3 } } : {}),
        },
      },
    };
    return [chart];
  },
  tables(cells) {
    const label = (cell: CellOutcomes<Scenario>) => (cells.length > 1 ? ` (${cell.label})` : '');
    const propensities = cells
      .map((cell) => ({ cell, columns: propensityColumns(cell) }))
      .filter(({ columns }) => columns.length > 1)
      .map(({ cell, columns }) => ({
        title: `Propensities p_k/p_1${label(cell)}`,
        caption:
          'True, estimated (RandTop-n, RandPair or harvested, as propensityEstimation says) and learned (DLA, regression EM, pairwise debiasing) examination propensities relative to rank 1: mean ± std over seeds.',
        rows: [
          ['rank', ...columns.map((c) => c.source)],
          ...columns[0].mean.map((_, k) => [String(k + 1), ...columns.map((c) => `${c.mean[k].toFixed(3)}${c.std ? ` ± ${c.std[k].toFixed(3)}` : ''}`)]),
        ],
      }));
    const clipping = cells
      .map((cell) => ({ cell, caps: [...new Set(cell.spec.learners.filter((l) => l.type === 'clipped-ips').map((l) => l.maxWeight))] }))
      .filter(({ caps }) => caps.length > 0)
      .map(({ cell, caps }) => ({
        title: `Clipping effect${label(cell)}`,
        caption:
          'What clipping the IPS weight at M does at each rank (closed form, oracle propensities): the expected weighted click relative to relevance, and the variance of the weighted click relative to unclipped IPS.',
        rows: clippingEffectRows(cell.outcomes[0].extras!.truePropensities as number[], caps),
      }));
    return [...propensities, ...clipping];
  },
};

/** The learner types whose objective learns the examination propensities (reported against the truth). */
const LEARNS_PROPENSITIES: ReadonlySet<string> = new Set(['dla', 'regression-em', 'pairwise-debias']);

/** How `propensityEstimation.intervention` is named in the reports. */
const ESTIMATE_NAMES = { shuffle: 'RandTop-n', swap: 'RandPair', harvest: 'harvested' } as const;

/**
 * The clipping-effect table, per rank: the expected weighted click is min(w_k, M)·(p_k/p_1)·r =
 * min(1, M·p_k/p_1)·r with w_k = p_1/p_k, so the learner sees relevance scaled by that factor
 * (bias towards the top), while the variance of the weighted click shrinks by (min(w_k, M)/w_k)².
 */
export function clippingEffectRows(truePropensities: readonly number[], caps: readonly number[]): string[][] {
  const header = ['rank', 'IPS weight', ...caps.flatMap((m) => [`M=${m}: E[weighted click]/rel`, `M=${m}: variance vs IPS`])];
  const rows = truePropensities.map((p, k) => {
    const w = 1 / p;
    return [
      String(k + 1),
      w.toFixed(2),
      ...caps.flatMap((m) => {
        const variance = (Math.min(w, m) / w) ** 2;
        return [Math.min(1, m * p).toFixed(3), variance >= 0.9995 ? '1' : variance.toFixed(3)];
      }),
    ];
  });
  return [header, ...rows];
}

/** The true propensities of a cell, then its propensityEstimation estimate and each learned one, as mean (± std) over seeds. */
function propensityColumns(cell: CellOutcomes<Scenario>): { source: string; mean: number[]; std?: number[] }[] {
  const perSeed = cell.outcomes.map((o) => o.extras!);
  const summarise = (source: string, lists: number[][]) => ({
    source,
    mean: lists[0].map((_, k) => mean(lists.map((l) => l[k]))),
    std: lists[0].map((_, k) => standardDeviation(lists.map((l) => l[k]))),
  });
  const columns: { source: string; mean: number[]; std?: number[] }[] = [{ source: 'true', mean: perSeed[0].truePropensities as number[] }];
  if (perSeed.every((e) => e.estimatedPropensities)) {
    columns.push(
      summarise(
        `${ESTIMATE_NAMES[cell.spec.propensityEstimation.intervention]} estimate`,
        perSeed.map((e) => e.estimatedPropensities as number[]),
      ),
    );
  }
  const learned = perSeed.map((e) => e.learnedPropensities as Record<string, number[]>);
  // Only methods every seed reports (seed files resumed from an older version may report fewer).
  for (const method of Object.keys(learned[0]).filter((m) => learned.every((l) => l[m]))) {
    columns.push(
      summarise(
        `${method} (learned)`,
        learned.map((l) => l[method]),
      ),
    );
  }
  return columns;
}
