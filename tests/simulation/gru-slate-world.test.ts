import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { FIRST_REAL_ITEM, NO_CLICK_ITEM } from '../../src/data/slate-sequences.js';
import { clickLogLikelihood, createGruSlateWorld, simulateLoggedSequences } from '../../src/simulation/slates/gru-slate-world.js';

const options = { items: 60, groups: 6, users: 200, dim: 6, slots: 8 };

describe('GRU slate world', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = simulateLoggedSequences(createGruSlateWorld(randomStream(1), options), randomStream(1).derive('log'), { steps: 10, minSlateLength: 4 });
    const b = simulateLoggedSequences(createGruSlateWorld(randomStream(1), options), randomStream(1).derive('log'), { steps: 10, minSlateLength: 4 });
    const c = simulateLoggedSequences(createGruSlateWorld(randomStream(2), options), randomStream(2).derive('log'), { steps: 10, minSlateLength: 4 });
    expect(a.click).toEqual(b.click);
    expect(a.slate).toEqual(b.slate);
    expect(a.click).not.toEqual(c.click);
  });

  it('logs FINN-layout slates: no-click in slot 0, distinct items, clicks point at their slot', () => {
    const world = createGruSlateWorld(randomStream(3), options);
    const data = simulateLoggedSequences(world, randomStream(3).derive('log'), { steps: 12, minSlateLength: 3 });
    const S = data.slots;
    let clicks = 0;
    for (let at = 0; at < data.users * data.steps; at++) {
      const len = data.slateLengths[at];
      expect(len).toBeGreaterThanOrEqual(3);
      const row = data.slate.subarray(at * S, at * S + S);
      expect(row[0]).toBe(NO_CLICK_ITEM);
      const items = Array.from(row.subarray(1, len));
      expect(new Set(items).size).toBe(len - 1);
      for (const i of items) expect(i).toBeGreaterThanOrEqual(FIRST_REAL_ITEM);
      for (let k = len; k < S; k++) expect(row[k]).toBe(0);
      expect(row[data.clickIdx[at]]).toBe(data.click[at]);
      if (data.click[at] >= FIRST_REAL_ITEM) clicks++;
    }
    // Realistic click rates: neither (almost) never nor (almost) always a click.
    const rate = clicks / (data.users * data.steps);
    expect(rate).toBeGreaterThan(0.15);
    expect(rate).toBeLessThan(0.85);
  });

  it('the true parameters explain their own data better than a world drawn with another seed', () => {
    const world = createGruSlateWorld(randomStream(4), options);
    const other = createGruSlateWorld(randomStream(5), options);
    const data = simulateLoggedSequences(world, randomStream(4).derive('log'), { steps: 10 });
    const own = clickLogLikelihood(world.params, data);
    const wrong = clickLogLikelihood(other.params, data);
    expect(own.steps).toBe(data.users * data.steps);
    expect(own.logLik).toBeGreaterThan(wrong.logLik);
  });
});
