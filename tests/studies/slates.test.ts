import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/learning/backend.js';
import { STUDY_KINDS } from '../../src/studies/registry.js';
import { runSlatesSeed } from '../../src/studies/slates/run.js';
import { slatesStudy } from '../../src/studies/slates/study.js';

await initBackend('wasm');
const kind = slatesStudy;
const at = (f: string) => `test.json: ${f}`;

describe('slates study kind', () => {
  it('is registered, parses a scenario with defaults and names a bad field', () => {
    expect(STUDY_KINDS.slates).toBe(slatesStudy);
    const cell = kind.parse({ world: { items: 30, users: 10 }, rounds: 4 }, at, 'test.json');
    expect(cell.world.slots).toBe(6);
    expect(cell.methods).toEqual(['greedy', 'thompson', 'in-slate-ts', 'oracle', 'random']);
    expect(() => kind.parse({ world: { itemz: 3 } }, at, 'test.json')).toThrow(/test\.json: world.*itemz/);
    expect(() => kind.parse({ methods: ['greedy', 'greedy'] }, at, 'test.json')).toThrow(/methods\[1\].*twice/);
    expect(() => kind.parse({ methods: ['ucb'] }, at, 'test.json')).toThrow(/methods\[0\]/);
  });

  it('one seed runs every method, reproducibly, with clicks per round within [0, users]', async () => {
    const cell = kind.parse(
      { world: { items: 20, groups: 4, users: 24, dim: 3, slots: 5 }, loggedSteps: 3, rounds: 4, refitEvery: 2, model: { epochs: 2, refitEpochs: 1, batchUsers: 12 } },
      at,
      'test.json',
    );
    const [a, b] = [await runSlatesSeed(cell, 3), await runSlatesSeed(cell, 3)];
    expect(a.clicksPerRound).toEqual(b.clicksPerRound);
    expect(Object.keys(a.clicksPerRound)).toEqual(cell.methods);
    for (const clicks of Object.values(a.clicksPerRound)) {
      expect(clicks).toHaveLength(4);
      for (const c of clicks) expect(c >= 0 && c <= 24).toBe(true);
    }
  });
});
