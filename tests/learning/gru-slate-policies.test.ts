import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { FIRST_REAL_ITEM, NO_CLICK_ITEM } from '../../src/data/slate-sequences.js';
import { chooseGruSlates, GRU_SLATE_POLICIES, replayState } from '../../src/learning/slates/gru-slate-policies.js';
import { createGruSlateWorld, outputOf, scoreAllItems, simulateLoggedSequences } from '../../src/simulation/slates/gru-slate-world.js';

const world = createGruSlateWorld(randomStream(21), { items: 25, groups: 5, users: 30, dim: 4, slots: 6 });
const history = simulateLoggedSequences(world, randomStream(21).derive('log'), { steps: 6 });
// A stand-in posterior: the truth as mean, draws perturbing every item vector.
const source = {
  mean: () => world.params,
  sample: (rng: ReturnType<typeof randomStream>) => ({ ...world.params, itemVectors: Float32Array.from(world.params.itemVectors, (v, i) => (i < FIRST_REAL_ITEM * 4 ? 0 : v + 0.5 * rng.normal())) }),
};

describe('GRU slate policies', () => {
  for (const policy of GRU_SLATE_POLICIES) {
    it(`${policy}: no-click in slot 0, distinct real items after it, deterministic for a seed`, () => {
      const S = history.slots;
      const a = new Int32Array(history.users * S);
      const b = new Int32Array(history.users * S);
      chooseGruSlates(policy, source, history, S, randomStream(1), a);
      chooseGruSlates(policy, source, history, S, randomStream(1), b);
      expect(a).toEqual(b);
      for (let u = 0; u < history.users; u++) {
        const slate = Array.from(a.subarray(u * S, u * S + S));
        expect(slate[0]).toBe(NO_CLICK_ITEM);
        expect(new Set(slate.slice(1)).size).toBe(S - 1);
        for (const i of slate.slice(1)) expect(i).toBeGreaterThanOrEqual(FIRST_REAL_ITEM);
      }
    });
  }

  it('greedy shows the top items under the mean for the replayed state', () => {
    const S = history.slots;
    const out = new Int32Array(history.users * S);
    chooseGruSlates('greedy', source, history, S, randomStream(2), out);
    const p = world.params;
    const h = new Float64Array(p.hidden);
    const z = new Float64Array(p.dim);
    const scores = new Float64Array(p.numItems);
    replayState(p, history, 7, h, new Float64Array(3 * p.hidden));
    outputOf(p, h, z);
    scoreAllItems(p, z, scores);
    const ranked = Array.from({ length: p.numItems }, (_, i) => i).sort((x, y) => scores[y] - scores[x] || x - y);
    expect(Array.from(out.subarray(7 * S + 1, 7 * S + S))).toEqual(ranked.slice(0, S - 1));
  });

  it('Thompson sampling explores: its slates differ from greedy’s for some users', () => {
    const S = history.slots;
    const greedy = new Int32Array(history.users * S);
    const ts = new Int32Array(history.users * S);
    chooseGruSlates('greedy', source, history, S, randomStream(3), greedy);
    chooseGruSlates('in-slate-ts', source, history, S, randomStream(3), ts);
    expect(ts).not.toEqual(greedy);
  });
});
