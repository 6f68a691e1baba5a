import { ConfigError } from '../../core/errors.js';
import { createPolicy } from '../../policies/bandits/factory.js';
import { createClickModel, type ClickModelSpec } from '../../simulation/click-models/index.js';
import { runBanditStudy, type BanditStudySpec } from './run.js';
import type { StudyKind } from '../study-kind.js';
import { array, checkKeys, fitsInMemory, integer, number, object, type Json } from '../../core/validate.js';

const BANDIT_FIELDS = ['world', 'clickModel', 'policies', 'rounds', 'batchSize', 'propensityDraws', 'curvePoints'] as const;
const DEFAULT_POLICIES = ['bernoulli-ts', 'pbm-ts', 'in-slate-ts', 'epsilon-greedy', 'random'];

/** A bandit cell: the study spec of `runBanditStudy` without its seeds (the runner owns those). */
export type BanditCell = Omit<BanditStudySpec, 'seeds'> & { readonly policyNames: readonly string[] };

/**
 * Slate bandits: policies play against a simulated click model for `rounds` rounds (`runBanditStudy`
 * for one seed). Metrics: cumulative regret against the best slate under the true model, and
 * clicks, at the horizon. Paired tests pair the seeds (every policy faces the same world per seed).
 */
export const banditStudy: StudyKind<BanditCell> = {
  name: 'bandit',
  description: 'slate bandit policies against a simulated click model: regret and clicks over rounds',
  fields: BANDIT_FIELDS,
  needsBackend: false,
  parse(raw, at) {
    const world = object(raw.world ?? {}, at('world'));
    checkKeys(world, ['items', 'slateSize', 'attractiveness', 'contextual'], at('world'));
    const numItems = integer(world.items, at('world.items'), 100, 2);
    const slateSize = integer(world.slateSize, at('world.slateSize'), 10, 1, numItems);
    const attractivenessRaw = object(world.attractiveness ?? {}, at('world.attractiveness'));
    checkKeys(attractivenessRaw, ['low', 'high'], at('world.attractiveness'));
    const low = number(attractivenessRaw.low, at('world.attractiveness.low'), 0.01, 0, 1);
    const high = number(attractivenessRaw.high, at('world.attractiveness.high'), 0.3, low, 1);
    let contextual: BanditStudySpec['contextual'];
    if (world.contextual !== undefined && world.contextual !== null) {
      const c = object(world.contextual, at('world.contextual'));
      checkKeys(c, ['users', 'dimension', 'bias'], at('world.contextual'));
      contextual = {
        users: integer(c.users, at('world.contextual.users'), 100, 1),
        dimension: integer(c.dimension, at('world.contextual.dimension'), 4, 1),
        bias: number(c.bias, at('world.contextual.bias'), -2),
      };
    }
    // The PBM with η = 2 by default; a click model without a type is a PBM (so a grid can set clickModel.eta alone).
    const clickModelRaw = object(raw.clickModel ?? { eta: 2 }, at('clickModel'));
    const clickModel = { type: 'pbm', ...clickModelRaw } as unknown as ClickModelSpec;
    createClickModel(clickModel, slateSize, at('clickModel')); // validates
    const policies = array(raw.policies ?? DEFAULT_POLICIES, at('policies')).map((p: Json) => (typeof p === 'string' ? { type: p } : p));
    // Build each policy once in a stand-in environment: validates its parameters and gives its name.
    const dimension = contextual?.dimension ?? numItems;
    const env = {
      numItems,
      slateSize,
      positionWeights: new Float64Array(slateSize).fill(1),
      userFeatures: [new Float64Array(contextual ? dimension : 1).fill(1)],
      itemFeatures: Array.from({ length: numItems }, (_, i) => Float64Array.from({ length: dimension }, (_, j) => (i === j ? 1 : 0))),
    };
    const policyNames = policies.map((p, i) => createPolicy(p, env, at(`policies[${i}]`)).name);
    const twice = policyNames.findIndex((n, i) => policyNames.indexOf(n) !== i);
    if (twice >= 0) throw new ConfigError(at(`policies[${twice}].label`), `"${policyNames[twice]}" is used twice; give it a distinct "label"`);
    return {
      numItems,
      slateSize,
      attractiveness: { low, high },
      contextual,
      clickModel,
      policies,
      policyNames,
      rounds: fitsInMemory(integer(raw.rounds, at('rounds'), 20_000, 1), slateSize, at('rounds'), 'rounds'),
      batchSize: integer(raw.batchSize, at('batchSize'), 1, 1),
      propensityDraws: integer(raw.propensityDraws, at('propensityDraws'), 0, 0),
      curvePoints: integer(raw.curvePoints, at('curvePoints'), 50, 1),
    };
  },
  methods: (spec) => [...spec.policyNames],
  metrics: () => ['regret', 'clicks'],
  primaryMetric: () => ({ name: 'regret', higherIsBetter: false }),
  defaultBaseline: (spec) => (spec.policyNames.includes('bernoulli-ts') ? 'bernoulli-ts' : spec.policyNames[0]),
  workUnits: (spec) => spec.policies.length,
  async runSeed(spec, seed, { onUnit }) {
    const study = runBanditStudy({ ...spec, seeds: [seed] }, ({ policy }) => onUnit(policy));
    return {
      values: study.table.flatMap((row) => [
        { method: row.policy, metric: 'regret', value: row.regret[0] },
        { method: row.policy, metric: 'clicks', value: row.clicks[0] },
      ]),
      extras: { curves: study.curves.map((c) => ({ policy: c.policy, rounds: c.rounds, regret: c.regret })) },
    };
  },
  charts(cells) {
    const rows: { cell: string; policy: string; round: number; regret: number }[] = [];
    for (const cell of cells) {
      const perSeed = cell.outcomes.map((o) => o.extras!.curves as { policy: string; rounds: number[]; regret: number[] }[]);
      for (const [p, curve] of perSeed[0].entries()) {
        curve.rounds.forEach((round, j) => {
          rows.push({ cell: cell.label, policy: curve.policy, round, regret: perSeed.reduce((s, c) => s + c[p].regret[j], 0) / perSeed.length });
        });
      }
    }
    return [
      {
        name: 'regret-curves',
        title: 'Cumulative regret over rounds',
        caption: 'Mean over seeds of the cumulative regret against the best slate under the true click model; a curve that flattens has sublinear regret.',
        spec: {
          data: { values: rows },
          mark: 'line',
          encoding: {
            x: { field: 'round', type: 'quantitative', title: 'round' },
            y: { field: 'regret', type: 'quantitative', title: 'cumulative regret' },
            color: { field: 'policy', type: 'nominal', sort: null, title: null },
            ...(cells.length > 1 ? { facet: { field: 'cell', type: 'nominal', sort: null, title: null, columns: 3 } } : {}),
          },
        },
      },
    ];
  },
};
