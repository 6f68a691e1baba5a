import { ConfigError } from '../../core/errors.js';
import { nearest } from '../../core/suggest.js';
import { allSlateEstimators, standardEstimators } from '../../evaluation/registry.js';
import { mean } from '../../evaluation/statistics.js';
import type { SlateWorldOptions } from '../../simulation/slate-world.js';
import { runEstimatorComparison } from './estimator-comparison.js';
import { runOpenBanditProtocol, type OpenBanditProtocolOptions } from './open-bandit-protocol.js';
import type { CellOutcomes, ChartRequest, StudyKind } from '../study-kind.js';
import { array, checkKeys, describe, fitsInMemory, integer, number, object, oneOf, type Json } from '../../core/validate.js';

const OPE_FIELDS = ['world', 'sampleSizes', 'replicates', 'lambda', 'folds', 'estimators'] as const;
const WORLD_FIELDS = ['users', 'items', 'slateSize', 'dimension', 'bias', 'clickModel', 'examination', 'loggingSharpness', 'evaluationSharpness', 'loggingNoise'] as const;
/** Every ordered slate of every user is enumerated (exact truth): more than this many (user, slate) pairs is refused. */
const MAX_ENUMERATED = 2_000_000;

/** An estimator-comparison cell: `runEstimatorComparison`'s options without the world seed (the runner's seed is the world seed). */
export interface OpeCell {
  readonly world: SlateWorldOptions;
  readonly sampleSizes: readonly number[];
  readonly replicates: number;
  readonly lambda: number;
  readonly folds: number;
  /** Estimators reported, in table order. */
  readonly estimators: readonly string[];
}

/** The names `runEstimatorComparison` reports for a world and λ, in its order. */
function estimatorNames(world: SlateWorldOptions, lambda: number): string[] {
  const trueModel = (world.clickModel ?? 'pbm') === 'pbm' ? ['dm (true q)', 'dr (true q)'] : [];
  return [...standardEstimators(lambda).map((e) => e.name), ...trueModel, ...allSlateEstimators().map((e) => e.name)];
}

/** Relative RMSE √MSE / V and relative bias (mean − V) / V of an estimator at n logged slates. */
const rmseMetric = (n: number) => `rel-rmse@${n}`;
const biasMetric = (n: number) => `rel-bias@${n}`;

/**
 * Off-policy estimators on simulated slates with exact truth (`runEstimatorComparison`). Each
 * runner seed draws a world (user and item factors, logging and evaluation policies); within it,
 * `replicates` logs of each size give every estimator's bias, variance and MSE against the exact
 * V(π_e). Metrics per sample size n: relative RMSE √MSE/V and relative bias (mean − V)/V; the
 * table averages them over worlds (seeds), and paired tests pair the worlds.
 */
export const opeStudy: StudyKind<OpeCell> = {
  name: 'ope',
  description: 'off-policy estimators on simulated slates against the exact policy value: relative RMSE and bias against the log size',
  fields: OPE_FIELDS,
  needsBackend: false,
  parse(raw, at) {
    const w = object(raw.world ?? {}, at('world'));
    checkKeys(w, WORLD_FIELDS, at('world'));
    const items = integer(w.items, at('world.items'), 8, 2);
    const slateSize = integer(w.slateSize, at('world.slateSize'), 3, 1, items);
    const users = integer(w.users, at('world.users'), 20, 1);
    let slates = 1;
    for (let k = 0; k < slateSize; k++) slates *= items - k;
    if (slates * users > MAX_ENUMERATED) {
      throw new ConfigError(
        at('world.items'),
        `expected a world small enough to enumerate: ${users} users × ${slates} ordered slates of ${slateSize} among ${items} items exceeds ${MAX_ENUMERATED.toLocaleString('en-US')}`,
      );
    }
    let examination: number[] | undefined;
    if (w.examination !== undefined) examination = array(w.examination, at('world.examination')).map((v, k) => number(v, at(`world.examination[${k}]`), undefined, 0, 1));
    if (examination?.length === 0) throw new ConfigError(at('world.examination'), 'expected at least one examination probability, found []');
    const world: SlateWorldOptions = {
      users,
      items,
      slateSize,
      dimension: integer(w.dimension, at('world.dimension'), 4, 1),
      bias: number(w.bias, at('world.bias'), -2),
      clickModel: oneOf(w.clickModel, ['pbm', 'cascade'] as const, at('world.clickModel'), 'pbm'),
      examination,
      loggingSharpness: number(w.loggingSharpness, at('world.loggingSharpness'), 0.5, 0),
      evaluationSharpness: number(w.evaluationSharpness, at('world.evaluationSharpness'), 2, 0),
      loggingNoise: number(w.loggingNoise, at('world.loggingNoise'), 1, 0),
    };
    const sampleSizes = array(raw.sampleSizes ?? [100, 1000, 10000], at('sampleSizes')).map((v, j) =>
      fitsInMemory(integer(v, at(`sampleSizes[${j}]`), undefined, 1), slateSize, at(`sampleSizes[${j}]`), 'slates'),
    );
    if (sampleSizes.length === 0) throw new ConfigError(at('sampleSizes'), 'expected at least one log size, found []');
    sampleSizes.forEach((n, j) => {
      if (j > 0 && n <= sampleSizes[j - 1]) throw new ConfigError(at(`sampleSizes[${j}]`), `expected sizes in increasing order, found ${n} after ${sampleSizes[j - 1]}`);
    });
    const lambda = number(raw.lambda, at('lambda'), 3, 0, Infinity, true);
    const all = estimatorNames(world, lambda);
    const estimators = raw.estimators === undefined ? all : array(raw.estimators, at('estimators')).map((v, j) => estimatorName(v, all, at(`estimators[${j}]`)));
    if (estimators.length === 0) throw new ConfigError(at('estimators'), `expected at least one of ${all.join(', ')}, found []`);
    return {
      world,
      sampleSizes,
      replicates: integer(raw.replicates, at('replicates'), 50, 2),
      lambda,
      folds: integer(raw.folds, at('folds'), 3, 2),
      estimators,
    };
  },
  methods: (spec) => [...spec.estimators],
  metrics: (spec) => spec.sampleSizes.flatMap((n) => [rmseMetric(n), biasMetric(n)]),
  primaryMetric: (spec) => ({ name: rmseMetric(spec.sampleSizes[spec.sampleSizes.length - 1]), higherIsBetter: false }),
  defaultBaseline: (spec) => (spec.estimators.includes('ipw') ? 'ipw' : spec.estimators[0]),
  workUnits: (spec) => spec.sampleSizes.length * spec.replicates,
  async runSeed(spec, seed, { onUnit }) {
    const result = runEstimatorComparison({
      world: spec.world,
      worldSeed: seed,
      sampleSizes: spec.sampleSizes,
      seeds: spec.replicates,
      lambda: spec.lambda,
      folds: spec.folds,
      onReplicate: (done, total) => onUnit(`log ${done}/${total}`),
    });
    const rows = result.rows.filter((r) => spec.estimators.includes(r.estimator));
    return {
      values: rows.flatMap((r) => [
        { method: r.estimator, metric: rmseMetric(r.slates), value: r.relativeRmse },
        { method: r.estimator, metric: biasMetric(r.slates), value: r.bias / r.truth },
      ]),
      extras: { truth: result.truth, loggingValue: result.loggingValue },
    };
  },
  charts(cells) {
    const slate = new Set(allSlateEstimators().map((e) => e.name));
    const family = (name: string) => (slate.has(name) ? 'slate' : name.endsWith('(true q)') ? 'true reward model' : 'standard');
    const rows = cells.flatMap((cell) =>
      cell.spec.estimators.flatMap((estimator) =>
        cell.spec.sampleSizes.map((n) => ({
          cell: cell.label,
          estimator,
          family: family(estimator),
          slates: n,
          rmse: meanOf(cell, estimator, rmseMetric(n)),
          bias: meanOf(cell, estimator, biasMetric(n)),
        })),
      ),
    );
    const sizes = cells.flatMap((c) => c.spec.sampleSizes);
    const x = { field: 'slates', type: 'quantitative', scale: { type: 'log', domain: [Math.min(...sizes), Math.max(...sizes)], nice: false }, title: 'logged slates n (log scale)' };
    const lineEncoding = (y: Record<string, unknown>) => ({
      x,
      y,
      color: { field: 'estimator', type: 'nominal', sort: null, title: 'estimator', scale: { scheme: 'tableau20' } },
      // Standard (row-level) estimators solid, those given the true reward model dashed, slate estimators dotted.
      strokeDash: {
        field: 'family',
        type: 'nominal',
        sort: ['standard', 'true reward model', 'slate'],
        title: 'family',
        scale: {
          range: [
            [1, 0],
            [6, 3],
            [2, 2],
          ],
        },
        legend: null,
      },
    });
    // One panel per cell, in grid order; the layers live inside the facet so that lines never join across cells.
    const chart = (layer: Record<string, unknown>[]) =>
      cells.length > 1
        ? { data: { values: rows }, facet: { field: 'cell', type: 'nominal', title: null, sort: cells.map((c) => c.label) }, columns: 2, spec: { width: 380, height: 260, layer } }
        : { data: { values: rows }, width: 420, height: 280, layer };
    const seeds = cells[0]?.seeds.length ?? 0;
    return [
      {
        name: 'ope-rmse-vs-n',
        title: 'Relative RMSE of each estimator against the log size',
        caption: `√MSE / V(π_e) over each world's replicate logs, averaged over ${seeds} simulated worlds (seeds); both axes log scale. Solid lines: standard estimators; dashed: DM and DR given the true reward model; dotted: slate estimators. An unbiased estimator's line falls with slope −1/2; a biased one flattens at its bias.`,
        spec: chart([{ mark: { type: 'line', point: true }, encoding: lineEncoding({ field: 'rmse', type: 'quantitative', scale: { type: 'log' }, title: '√MSE / V' }) }]),
      },
      {
        name: 'ope-bias-vs-n',
        title: 'Relative bias of each estimator against the log size',
        caption: `(mean estimate − V(π_e)) / V(π_e), averaged over ${seeds} simulated worlds (seeds); x on a log scale; line styles as in the RMSE chart. Clipped, model-based and misspecified estimators keep a bias that more data does not remove.`,
        spec: chart([
          { mark: { type: 'line', point: true }, encoding: lineEncoding({ field: 'bias', type: 'quantitative', title: '(mean − V) / V' }) },
          { mark: { type: 'rule', color: 'gray' }, encoding: { y: { datum: 0 } } },
        ]),
      },
    ];
  },
};

function estimatorName(value: Json, allowed: readonly string[], path: string): string {
  if (typeof value === 'string' && allowed.includes(value)) return value;
  const hint = typeof value === 'string' ? nearest(value, allowed) : null;
  throw new ConfigError(path, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}, found ${describe(value)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
}

function meanOf(cell: CellOutcomes<unknown>, method: string, metric: string): number {
  return mean(cell.outcomes.map((o) => o.values.find((v) => v.method === method && v.metric === metric)!.value));
}

const OBD_FIELDS = ['campaign', 'evaluate', 'btsActionDist', 'draws', 'resamples', 'level', 'folds', 'l2', 'lambda'] as const;

export type OpenBanditCell = Required<Omit<OpenBanditProtocolOptions, 'seed' | 'onEstimator' | 'randomLog' | 'btsLog' | 'priors' | 'actionDistFile' | 'onActionDist'>> & {
  readonly estimators: readonly string[];
};

/**
 * The Open Bandit protocol on the shipped sample (`runOpenBanditProtocol`): every estimator
 * estimates one policy's CTR from the other policy's log of the campaign and is scored by its
 * relative error |V̂ − V_on| / V_on against the evaluated policy's on-policy CTR. The seed drives
 * the Monte Carlo π_e of Bernoulli TS, the cross-fitting folds and the bootstrap.
 */
export const openBanditStudy: StudyKind<OpenBanditCell> = {
  name: 'open-bandit',
  description: 'off-policy estimators on the shipped Open Bandit sample: relative error against the on-policy CTR',
  fields: OBD_FIELDS,
  needsBackend: false,
  parse(raw, at) {
    const lambda = number(raw.lambda, at('lambda'), 10, 0, Infinity, true);
    return {
      campaign: oneOf(raw.campaign, ['men', 'women'] as const, at('campaign'), 'men'),
      evaluate: oneOf(raw.evaluate, ['bts', 'random'] as const, at('evaluate'), 'bts'),
      btsActionDist: oneOf(raw.btsActionDist, ['prior', 'empirical'] as const, at('btsActionDist'), 'prior'),
      draws: integer(raw.draws, at('draws'), 100_000, 1),
      resamples: integer(raw.resamples, at('resamples'), 10_000, 1),
      level: number(raw.level, at('level'), 0.95, 0, 1, true),
      folds: integer(raw.folds, at('folds'), 3, 2),
      l2: number(raw.l2, at('l2'), 1, 0),
      lambda,
      estimators: standardEstimators(lambda).map((e) => e.name),
    };
  },
  methods: (spec) => [...spec.estimators],
  metrics: () => ['relative-error', 'estimate'],
  primaryMetric: () => ({ name: 'relative-error', higherIsBetter: false }),
  defaultBaseline: () => 'ipw',
  workUnits: (spec) => spec.estimators.length,
  async runSeed(spec, seed, { onUnit }) {
    const { estimators: _names, ...options } = spec;
    const result = await runOpenBanditProtocol({ ...options, seed, onEstimator: (_done, _total, name) => onUnit(name) });
    return {
      values: result.table.flatMap((r) => [
        { method: r.estimator, metric: 'relative-error', value: r.relativeError! },
        { method: r.estimator, metric: 'estimate', value: r.estimate },
      ]),
      extras: {
        groundTruth: result.groundTruth,
        loggingValue: result.loggingValue,
        rows: result.rows,
        intervals: result.table.map((r) => ({ estimator: r.estimator, lower: r.lower, upper: r.upper })),
      },
    };
  },
  charts(cells) {
    const rows = cells.flatMap((cell) =>
      cell.spec.estimators.map((estimator, j) => ({
        cell: cell.label,
        estimator,
        estimate: meanOf(cell, estimator, 'estimate'),
        // The first seed's bootstrap interval (the intervals of other seeds differ only by Monte Carlo noise).
        lower: (cell.outcomes[0].extras!.intervals as { lower: number }[])[j].lower,
        upper: (cell.outcomes[0].extras!.intervals as { upper: number }[])[j].upper,
      })),
    );
    const truths = cells.map((cell) => ({ cell: cell.label, truth: cell.outcomes[0].extras!.groundTruth as number, logging: cell.outcomes[0].extras!.loggingValue as number }));
    const spec = cells[0]?.spec;
    const chart: ChartRequest = {
      name: 'obd-estimates',
      title: `Estimated CTR of ${spec?.evaluate === 'random' ? 'the random policy' : 'Bernoulli TS'} against its on-policy CTR`,
      caption: `Each estimator's estimate (mean over seeds) with the first seed's ${Math.round((spec?.level ?? 0.95) * 100)}% bootstrap interval; the solid line is the evaluated policy's on-policy CTR in its own log (the ground truth), the dashed line the logging policy's CTR (no correction).`,
      spec: {
        width: 420,
        height: 240,
        layer: [
          {
            data: { values: rows },
            encoding: { x: { field: 'estimator', type: 'nominal', sort: null, title: null, axis: { labelAngle: -30 } } },
            layer: [
              { mark: { type: 'errorbar', ticks: true }, encoding: { y: { field: 'lower', type: 'quantitative', scale: { zero: false }, title: 'CTR' }, y2: { field: 'upper' } } },
              { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'estimate', type: 'quantitative' } } },
            ],
          },
          { data: { values: truths }, mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'truth', type: 'quantitative' } } },
          { data: { values: truths }, mark: { type: 'rule', color: 'gray', strokeDash: [4, 4] }, encoding: { y: { field: 'logging', type: 'quantitative' } } },
        ],
      },
    };
    return cells.length === 1 ? [chart] : [];
  },
};
