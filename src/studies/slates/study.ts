import { ConfigError } from '../../core/errors.js';
import { array, checkKeys, integer, type JsonObject, number, object, oneOf } from '../../core/validate.js';
import { mean } from '../../evaluation/statistics.js';
import { GRU_SCORES, type GruSlateWorldOptions } from '../../simulation/slates/gru-slate-world.js';
import type { ChartRequest, StudyKind } from '../study-kind.js';
import { runSlatesSeed, SLATE_METHODS, type SlatesCell } from './run.js';

const SLATES_FIELDS = ['world', 'loggedSteps', 'minSlateLength', 'rounds', 'refitEvery', 'model', 'methods'] as const;

/**
 * Online GRU slate recommendation (Eide, Leslie & Frigessi 2022): greedy, Thompson sampling and
 * in-slate Thompson sampling over the variational posterior of the GRU slate model, against a GRU
 * world with known parameters, with a true-parameter greedy oracle and random slates as references
 * (`runSlatesSeed`). Metrics: the click rate over all online rounds and over the last half (the
 * share of slates with a click on an item). Paired tests pair the seeds (every method faces the
 * same world, logged data and click draws per seed).
 */
export const slatesStudy: StudyKind<SlatesCell> = {
  name: 'slates',
  description: 'GRU slate recommender (variational posterior): greedy vs Thompson vs in-slate Thompson sampling online against a GRU world with known parameters',
  fields: SLATES_FIELDS,
  needsBackend: true,
  parse(raw, at) {
    const world = parseSlateWorld(object(raw.world ?? {}, at('world')), at);
    const slots = world.slots;
    const m = object(raw.model ?? {}, at('model'));
    checkKeys(m, ['particles', 'learningRate', 'batchUsers', 'maxScale', 'epochs', 'refitEpochs'], at('model'));
    const model = {
      particles: integer(m.particles, at('model.particles'), 4, 1, 64),
      learningRate: number(m.learningRate, at('model.learningRate'), 0.02, 0, 1, true),
      batchUsers: integer(m.batchUsers, at('model.batchUsers'), 64, 1),
      maxScale: number(m.maxScale, at('model.maxScale'), 1, 0, 100, true),
      epochs: integer(m.epochs, at('model.epochs'), 10, 0),
      refitEpochs: integer(m.refitEpochs, at('model.refitEpochs'), 3, 0),
    };
    const methods = array(raw.methods ?? [...SLATE_METHODS], at('methods')).map((x, j) => oneOf(x, SLATE_METHODS, at(`methods[${j}]`), undefined));
    if (methods.length === 0) throw new ConfigError(at('methods'), `expected at least one of ${SLATE_METHODS.join(', ')}, found []`);
    const twice = methods.findIndex((x, j) => methods.indexOf(x) !== j);
    if (twice >= 0) throw new ConfigError(at(`methods[${twice}]`), `"${methods[twice]}" is listed twice`);
    return {
      world,
      loggedSteps: integer(raw.loggedSteps, at('loggedSteps'), 5, 1, 1000),
      minSlateLength: integer(raw.minSlateLength, at('minSlateLength'), Math.max(2, slots - 2), 2, slots),
      rounds: integer(raw.rounds, at('rounds'), 20, 2, 10_000),
      refitEvery: integer(raw.refitEvery, at('refitEvery'), 5, 1),
      model,
      methods,
    };
  },
  methods: (spec) => [...spec.methods],
  metrics: () => ['click-rate', 'late-click-rate'],
  primaryMetric: () => ({ name: 'click-rate', higherIsBetter: true }),
  defaultBaseline: (spec) => (spec.methods.includes('greedy') ? 'greedy' : spec.methods[0]),
  workUnits: (spec) => spec.methods.length,
  async runSeed(spec, seed, { onUnit }) {
    const result = await runSlatesSeed(spec, seed, onUnit);
    const half = Math.floor(spec.rounds / 2);
    return {
      values: Object.entries(result.clicksPerRound).flatMap(([method, clicks]) => [
        { method, metric: 'click-rate', value: clicks.reduce((a, b) => a + b, 0) / (result.users * clicks.length) },
        { method, metric: 'late-click-rate', value: clicks.slice(half).reduce((a, b) => a + b, 0) / (result.users * (clicks.length - half)) },
      ]),
      extras: { clicksPerRound: result.clicksPerRound, users: result.users, fitSeconds: result.fitSeconds, seconds: result.seconds },
    };
  },
  charts(cells) {
    const rows: { cell: string; method: string; round: number; clicks: number }[] = [];
    for (const cell of cells) {
      const perSeed = cell.outcomes.map((o) => o.extras!.clicksPerRound as Record<string, number[]>);
      for (const method of cell.spec.methods) {
        let cumulative = 0;
        for (let r = 0; r < cell.spec.rounds; r++) {
          cumulative += mean(perSeed.map((s) => s[method][r]));
          rows.push({ cell: cell.label, method, round: r + 1, clicks: cumulative });
        }
      }
    }
    const chart: ChartRequest = {
      name: 'cumulative-clicks',
      title: 'Cumulative clicks over online rounds',
      caption: 'Mean over seeds of the cumulative clicks on items, all simulated users together, one slate per user per round; the oracle ranks with the true parameters and state.',
      spec: {
        data: { values: rows },
        mark: 'line',
        encoding: {
          x: { field: 'round', type: 'quantitative', title: 'round' },
          y: { field: 'clicks', type: 'quantitative', title: 'cumulative clicks' },
          color: { field: 'method', type: 'nominal', sort: null, title: null },
          ...(cells.length > 1 ? { facet: { field: 'cell', type: 'nominal', sort: null, title: null, columns: 3 } } : {}),
        },
      },
    };
    return [chart];
  },
};

/** A GRU world's options from JSON (scenario `world`, `clicklab slates train --world`), defaults filled. */
export function parseSlateWorld(w: JsonObject, at: (field: string) => string): Required<GruSlateWorldOptions> {
  checkKeys(w, ['items', 'groups', 'users', 'dim', 'hidden', 'slots', 'score', 'groupSpread', 'itemSpread', 'weightGain', 'h0Scale', 'noClickLogit'], at('world'));
  const items = integer(w.items, at('world.items'), 100, 2);
  const dim = integer(w.dim, at('world.dim'), 6, 1, 64);
  const slots = integer(w.slots, at('world.slots'), 6, 2, Math.min(64, items + 1));
  const world = {
    items,
    groups: integer(w.groups, at('world.groups'), 10, 1, items),
    users: integer(w.users, at('world.users'), 100, 1, 100_000),
    dim,
    hidden: integer(w.hidden, at('world.hidden'), dim, 1, 64),
    slots,
    score: oneOf(w.score, GRU_SCORES, at('world.score'), 'l2'),
    groupSpread: number(w.groupSpread, at('world.groupSpread'), 0.6, 0),
    itemSpread: number(w.itemSpread, at('world.itemSpread'), 0.25, 0),
    weightGain: number(w.weightGain, at('world.weightGain'), 1.5, 0),
    h0Scale: number(w.h0Scale, at('world.h0Scale'), 0.5, 0),
    noClickLogit: number(w.noClickLogit, at('world.noClickLogit'), -1),
  };
  return world;
}
