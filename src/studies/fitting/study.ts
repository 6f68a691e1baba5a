import { ConfigError } from '../../core/errors.js';
import { mean } from '../../evaluation/statistics.js';
import { DEFAULT_EM_ITERATIONS, FITTED_MODEL_TYPES, fittedModelName } from '../../fitting/index.js';
import { createClickModel, type ClickModelSpec } from '../../simulation/click-models/index.js';
import type { ChartRequest, StudyKind } from '../study-kind.js';
import { runFittingSeed, type FittingCell } from './run.js';
import { array, checkKeys, fitsInMemory, integer, number, object, oneOf } from '../../core/validate.js';

const FITTING_FIELDS = ['world', 'clickModel', 'sessions', 'intervention', 'models', 'iterations', 'testFraction'] as const;

/**
 * Click-model fitting (a click-model comparison in the manner of Chuklin, Markov & de Rijke's
 * "Click Models for Web Search", ch. 9, and PyClick): a log is simulated from a chosen true click
 * model, every fittable model is fitted to its training sessions by EM (`fitClickModel`), and each
 * is scored on the held-out sessions — log-likelihood (higher is better), perplexity (lower is
 * better, 1 is perfect) — and by its parameter error: the RMSE of the fitted attractiveness α_{q,d}
 * against the true one over the pairs in the training sessions. The true model's own perplexity
 * per rank is drawn as the floor the fitted models approach. Paired tests pair the seeds.
 */
export const fittingStudy: StudyKind<FittingCell> = {
  name: 'fitting',
  description: 'click models fitted by EM to a log simulated from a true click model: held-out log-likelihood, perplexity and attractiveness error',
  fields: FITTING_FIELDS,
  needsBackend: false,
  parse(raw, at) {
    const world = object(raw.world ?? {}, at('world'));
    checkKeys(world, ['queries', 'listLength', 'attractiveness'], at('world'));
    const listLength = integer(world.listLength, at('world.listLength'), 10, 1, 100);
    const a = object(world.attractiveness ?? {}, at('world.attractiveness'));
    checkKeys(a, ['low', 'high'], at('world.attractiveness'));
    const low = number(a.low, at('world.attractiveness.low'), 0.05, 0, 1);
    const high = number(a.high, at('world.attractiveness.high'), 0.95, low, 1);
    // The true model defaults to a DBN (γ = 0.9, satisfaction = attractiveness); without a type, a DBN (so a grid can set clickModel.gamma alone).
    const clickModelRaw = object(raw.clickModel ?? {}, at('clickModel'));
    const clickModel = { type: 'dbn', ...clickModelRaw } as unknown as ClickModelSpec;
    createClickModel(clickModel, listLength, at('clickModel')); // validates
    const models = array(raw.models ?? [...FITTED_MODEL_TYPES], at('models')).map((m, j) => oneOf(fittedModelName(m), FITTED_MODEL_TYPES, at(`models[${j}]`), undefined));
    if (models.length === 0) throw new ConfigError(at('models'), `expected at least one of ${FITTED_MODEL_TYPES.join(', ')}, found []`);
    const twice = models.findIndex((m, j) => models.indexOf(m) !== j);
    if (twice >= 0) throw new ConfigError(at(`models[${twice}]`), `"${models[twice]}" is listed twice`);
    return {
      queries: fitsInMemory(integer(world.queries, at('world.queries'), 200, 1), listLength, at('world.queries'), 'queries'),
      listLength,
      attractiveness: { low, high },
      clickModel,
      sessions: fitsInMemory(integer(raw.sessions, at('sessions'), 50_000, 2), listLength, at('sessions'), 'sessions'),
      intervention: oneOf(raw.intervention, ['none', 'shuffle'] as const, at('intervention'), 'shuffle'),
      models,
      iterations: integer(raw.iterations, at('iterations'), DEFAULT_EM_ITERATIONS, 1),
      testFraction: number(raw.testFraction, at('testFraction'), 0.25, 0, 0.9, true),
    };
  },
  methods: (spec) => [...spec.models],
  metrics: () => ['log-likelihood', 'perplexity', 'alpha-rmse'],
  primaryMetric: () => ({ name: 'perplexity', higherIsBetter: false }),
  defaultBaseline: (spec) => (spec.models.includes('pbm') ? 'pbm' : spec.models[0]),
  workUnits: (spec) => spec.models.length,
  runSeed: (spec, seed, { onUnit }) => runFittingSeed(spec, seed, onUnit),
  charts(cells) {
    const rows = cells.flatMap((cell) => {
      const extras = cell.outcomes.map((o) => o.extras!);
      const truth = extras.map((e) => e.truePerplexityAtRank as number[]);
      const series = [...cell.spec.models.map((m) => ({ model: m as string, lists: extras.map((e) => (e.perplexityAtRank as Record<string, number[]>)[m]) })), { model: TRUE_MODEL, lists: truth }];
      return series.flatMap(({ model, lists }) =>
        lists[0].map((_, k) => ({
          cell: cell.label,
          model,
          rank: k + 1,
          perplexity: mean(lists.map((l) => l[k])),
          // Paired per seed: the fitted model's perplexity minus the true model's on the same held-out sessions.
          excess: mean(lists.map((l, j) => l[k] - truth[j][k])),
        })),
      );
    });
    const models = [...new Set(cells.flatMap((c) => c.spec.models as string[]))];
    // The methods' colours of the other charts (vega's category scheme, in method order); the true model in black, dashed.
    const color = (withTruth: boolean) => ({
      field: 'model',
      type: 'nominal',
      sort: null,
      title: null,
      scale: withTruth ? { domain: [...models, TRUE_MODEL], range: [...CATEGORY_COLOURS.slice(0, models.length), 'black'] } : { domain: models, range: CATEGORY_COLOURS.slice(0, models.length) },
    });
    const facet = cells.length > 1 ? { facet: { field: 'cell', type: 'nominal', title: null, columns: 2 } } : {};
    const seeds = cells[0]?.seeds.length ?? 0;
    const line = (y: Record<string, unknown>, withTruth: boolean) => ({
      data: { values: withTruth ? rows : rows.filter((r) => r.model !== TRUE_MODEL) },
      width: 360,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'rank', type: 'ordinal', title: 'rank', axis: { labelAngle: 0 } },
        y,
        color: color(withTruth),
        strokeDash: { condition: { test: `datum.model === '${TRUE_MODEL}'`, value: [4, 3] }, value: [1, 0] },
        ...facet,
      },
    });
    const charts: ChartRequest[] = [
      {
        name: 'perplexity-per-rank',
        title: 'Held-out perplexity per rank of each fitted click model',
        caption: `Perplexity 2^(−mean log₂ P(C_k = c_k)) at each rank on the held-out sessions, mean over ${seeds} seeds (1 is perfect, 2 a coin flip); "${TRUE_MODEL}" (dashed) is the simulating model with its true parameters, the floor a fitted model can reach.`,
        spec: line({ field: 'perplexity', type: 'quantitative', scale: { zero: false }, title: 'perplexity' }, true),
      },
      {
        name: 'excess-perplexity-per-rank',
        title: 'Perplexity per rank above the true model',
        caption: `Each fitted model's held-out perplexity minus the true model's on the same sessions, mean over ${seeds} seeds (symmetric-log scale): how much of the fit is lost to the model's assumptions and to estimation noise, rank by rank.`,
        spec: line(
          {
            field: 'excess',
            type: 'quantitative',
            scale: { type: 'symlog', constant: 0.001 },
            axis: { values: [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], format: '~g' },
            title: 'perplexity − true model',
          },
          false,
        ),
      },
    ];
    return charts;
  },
};

const TRUE_MODEL = 'true model';
/** Vega's default categorical scheme (tableau10), which the runner's own charts use for the methods. */
const CATEGORY_COLOURS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
