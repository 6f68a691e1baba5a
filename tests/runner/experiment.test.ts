import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadExperiment, parseExperiment, setPath } from '../../src/runner/experiment.js';
import type { Scenario } from '../../src/studies/ultr/scenario.js';
import type { BanditCell } from '../../src/studies/bandit/study.js';

const bandit = { schema: 'clicklab/scenario@2', name: 'b', study: 'bandit', world: { items: 20, slateSize: 5 }, rounds: 100, policies: ['bernoulli-ts', 'pbm-ts', 'random'] };

function error(raw: unknown): string {
  try {
    parseExperiment(raw, 'x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('scenario schema v2', () => {
  it('expands a grid into cells, the last axis fastest, each validated with its values substituted', () => {
    const e = parseExperiment({
      schema: 'clicklab/scenario@2',
      name: 'g',
      study: 'ultr',
      learners: ['naive', { type: 'clipped-ips', maxWeight: 5 }, 'ips'],
      grid: { 'clickModel.eta': [0.5, 1, 2], 'learners[1].maxWeight': [2, 10], 'learners[2].propensities': ['estimated'] },
      seeds: [1, 2],
    });
    expect(e.cells).toHaveLength(6);
    expect(e.cells.map((c) => c.id)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(e.cells[1].label).toBe('eta=0.5, maxWeight=10, propensities=estimated');
    const specs = e.cells.map((c) => c.spec as Scenario);
    expect(specs.map((s) => s.clickModel.eta)).toEqual([0.5, 0.5, 1, 1, 2, 2]);
    expect(specs.map((s) => s.learners[1].label)).toEqual(['clipped-ips@2', 'clipped-ips@10', 'clipped-ips@2', 'clipped-ips@10', 'clipped-ips@2', 'clipped-ips@10']);
    // A learner written as a name becomes an object when the grid sets one of its fields.
    expect(specs[0].learners[2]).toMatchObject({ type: 'ips', propensities: 'estimated', label: 'ips-estimated' });
    expect(e.methods).toEqual(['logging', 'skyline', 'naive', 'clipped-ips@2', 'ips-estimated', 'clipped-ips@10']);
    expect(e.baseline).toBe('naive');
    expect(e.primaryMetric).toEqual({ name: 'ndcg@10', higherIsBetter: true });
  });

  it('reads version 1 files as ULTR studies and accepts every shipped scenario', () => {
    const v1 = loadExperiment('sim/ultr-mq2008.json');
    expect(v1.study).toBe('ultr');
    expect(v1.cells).toHaveLength(1);
    expect((v1.cells[0].spec as Scenario).sessions).toBe(200_000);
    expect(v1.seeds).toEqual([1, 2, 3, 4]);
    for (const file of readdirSync('sim')) expect(loadExperiment(`sim/${file}`).cells.length).toBeGreaterThan(0);
  });

  it('parses bandit studies: policies by name or spec, click model defaults to the PBM', () => {
    const e = parseExperiment({ ...bandit, policies: ['bernoulli-ts', { type: 'epsilon-greedy', epsilon: 0.2, label: 'eg' }], grid: { 'clickModel.eta': [1, 2] } });
    const cell = e.cells[1].spec as BanditCell;
    expect(cell.clickModel).toEqual({ type: 'pbm', eta: 2 });
    expect(cell.policyNames).toEqual(['bernoulli-ts', 'eg']);
    expect(e.baseline).toBe('bernoulli-ts');
    expect(e.primaryMetric).toEqual({ name: 'regret', higherIsBetter: false });
  });

  it('names the field path, what was expected and what was found in a broken file, with the nearest valid name', () => {
    expect(error({ ...bandit, polices: [] })).toMatch(/x\.json\.polices: unknown field \(did you mean "policies"\?\)/);
    expect(error({ ...bandit, study: 'bandits' })).toMatch(/x\.json: study: expected one of "ultr", "bandit", .*found "bandits" \(did you mean "bandit"\?\)/);
    expect(error({ ...bandit, schema: 'clicklab/scenario@3' })).toMatch(/schema: expected "clicklab\/scenario@2" \(or "clicklab\/scenario@1"\), found "clicklab\/scenario@3"/);
    expect(error({ schema: 'clicklab/scenario@2', name: 'u', grid: { 'clickModel.etta': [1, 2] } })).toMatch(
      /grid\["clickModel\.etta"\]\[0\]: with this value, clickModel\.etta: unknown field \(did you mean "eta"\?\)/,
    );
    expect(error({ ...bandit, grid: { 'clickModel.etta': [1, 2] } })).toMatch(/grid\["clickModel\.etta"\]\[0\]: with this value, clickModel\.etta: unknown field for a "pbm" click model/);
    expect(error({ ...bandit, grid: { 'clickModle.eta': [1] } })).toMatch(/grid\["clickModle\.eta"\]: a grid path starts with a field of a "bandit" study \(did you mean "clickModel"\?\)/);
    expect(error({ ...bandit, grid: { seeds: [[1], [2]] } })).toMatch(/seeds are not a grid axis/);
    expect(error({ ...bandit, grid: { rounds: [] } })).toMatch(/grid\["rounds"\]: expected at least one value/);
    expect(error({ ...bandit, grid: { rounds: [10, 10] } })).toMatch(/grid\["rounds"\]\[1\]: the value 10 is listed twice/);
    expect(error({ ...bandit, grid: { rounds: [10, -1] } })).toMatch(/grid\["rounds"\]\[1\]: with this value, rounds: expected an integer ≥ 1, found -1/);
    expect(error({ ...bandit, grid: { 'policies[5].epsilon': [0.1] } })).toMatch(/grid\["policies\[5\]\.epsilon"\]\[0\]: "policies" has 3 entries, so index 5 does not exist/);
    expect(error({ ...bandit, grid: { 'rounds..x': [1] } })).toMatch(/expected a path like "clickModel\.eta"/);
    expect(error({ ...bandit, baseline: 'bernouli-ts' })).toMatch(/baseline: expected a method of \(bernoulli-ts, pbm-ts, random\), found "bernouli-ts" \(did you mean "bernoulli-ts"\?\)/);
    expect(error({ ...bandit, policies: ['pbm-tss'] })).toMatch(/policies\[0\]\.type: .*did you mean "pbm-ts"/);
    expect(error({ ...bandit, policies: ['random', 'random'] })).toMatch(/policies\[1\]\.label: "random" is used twice/);
    expect(error({ ...bandit, world: { items: 5, slateSize: 6 } })).toMatch(/world\.slateSize: expected an integer ≥ 1 and ≤ 5, found 6/);
    expect(error({ ...bandit, name: 'a b' })).toMatch(/name: expected letters, digits/);
    expect(error({ schema: 'clicklab/scenario@2', name: 'u', grid: { 'learners[0].maxWeight': [5] } })).toMatch(/grid\["learners\[0\]\.maxWeight"\]\[0\]: "learners" is not a list in the scenario/);
    expect(error({ schema: 'clicklab/scenario@2', name: 'u', learners: ['naive', 'ips'], grid: { 'learners[1].maxWeight': [5] } })).toMatch(
      /grid\["learners\[1\]\.maxWeight"\]\[0\]: with this value, learners\[1\]\.maxWeight: only clipped-ips and dla take a weight cap/,
    );
    // Version 1 files keep their own fields: no grid.
    expect(error({ schema: 'clicklab/scenario@1', name: 'u', grid: {} })).toMatch(/x\.json\.grid: unknown field/);
  });

  it('sets values by path without touching the original', () => {
    const raw = { learners: ['naive', 'ips'], clickModel: { eta: 1 } };
    expect(setPath(raw, 'clickModel.eta', 2, 'g')).toEqual({ learners: ['naive', 'ips'], clickModel: { eta: 2 } });
    expect(setPath(raw, 'learners[1].maxWeight', 5, 'g')).toEqual({ learners: ['naive', { type: 'ips', maxWeight: 5 }], clickModel: { eta: 1 } });
    expect(setPath(raw, 'training.steps', 5, 'g')).toMatchObject({ training: { steps: 5 } });
    expect(raw).toEqual({ learners: ['naive', 'ips'], clickModel: { eta: 1 } });
  });
});
