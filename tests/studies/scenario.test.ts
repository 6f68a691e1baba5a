import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { nearest } from '../../src/core/suggest.js';
import { loadScenario, parseScenario } from '../../src/studies/ultr/scenario.js';

describe('scenario validation', () => {
  it('fills defaults and accepts the shipped scenarios', () => {
    const s = parseScenario({ name: 'x', learners: ['naive', { type: 'clipped-ips', maxWeight: 5 }] });
    expect(s.dataset).toEqual({ name: 'mq2008', fold: 1 });
    expect(s.clickModel).toMatchObject({ type: 'pbm', examination: 'eye-tracking', eta: 1, epsilon: 0.1, cutoff: 10 });
    expect(s.learners.map((l) => l.label)).toEqual(['naive', 'clipped-ips@5']);
    const baselines = parseScenario({ name: 'x', learners: ['click-model', { type: 'click-model', model: 'dbn', iterations: 20 }] }).learners;
    expect(baselines.map((l) => [l.label, l.clickModel])).toEqual([
      ['click-model:pbm', { model: 'pbm', iterations: 50 }],
      ['click-model:dbn', { model: 'dbn', iterations: 20 }],
    ]);
    for (const file of ['sim/ultr-mq2008.json', 'sim/ultr-mq2008-eta2.json', 'sim/ultr-mq2008-lines.json']) expect(loadScenario(file).name).toMatch(/ultr-mq2008/);
  });

  it('names the field, what was expected and what was found, with the nearest valid name for a typo', () => {
    const error = (raw: unknown) => {
      try {
        parseScenario(raw, 'test.json');
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(error({ name: 'x', clickModle: {} })).toMatch(/test\.json\.clickModle: unknown field \(did you mean "clickModel"\?\)/);
    expect(error({ name: 'x', clickModel: { eta: -1 } })).toMatch(/clickModel\.eta: expected a number ≥ 0, found -1/);
    expect(error({ name: 'x', clickModel: { examination: 'eyetracking' } })).toMatch(/did you mean "eye-tracking"/);
    expect(error({ name: 'x', learners: ['nave'] })).toMatch(/learners\[0\]\.type: .*found "nave" \(did you mean "naive"\?\)/);
    expect(error({ name: 'x', learners: [{ type: 'clipped-ips' }] })).toMatch(/learners\[0\]\.maxWeight: clipped IPS needs a weight cap/);
    expect(error({ name: 'x', learners: ['naive', 'naive'] })).toMatch(/is used twice/);
    expect(error({ name: 'x', learners: [{ type: 'ips', maxRelevanceWeight: 10 }] })).toMatch(/learners\[0\]\.maxRelevanceWeight: only dla/);
    expect(error({ name: 'x', learners: [{ type: 'dla', propensityLearningRate: 0 }] })).toMatch(/propensityLearningRate: expected a number > 0, found 0/);
    expect(error({ name: 'x', learners: [{ type: 'click-model', model: 'pmb' }] })).toMatch(/learners\[0\]\.model: expected one of "pbm", .*found "pmb" \(did you mean "pbm"\?\)/);
    expect(error({ name: 'x', learners: [{ type: 'click-model', model: 'dnn' }] })).toMatch(/found "dnn" \(did you mean "dbn"\?\)/);
    expect(error({ name: 'x', learners: [{ type: 'click-model', iterations: 0 }] })).toMatch(/learners\[0\]\.iterations: expected an integer ≥ 1, found 0/);
    expect(error({ name: 'x', learners: [{ type: 'naive', model: 'pbm' }] })).toMatch(/learners\[0\]\.model: only the click-model learner fits a click model/);
    expect(error({ name: 'x', learners: [{ type: 'dla', iterations: 5 }] })).toMatch(/learners\[0\]\.iterations: only the click-model learner/);
    expect(error({ name: 'x', learners: ['click-model', { type: 'click-model', model: 'pbm', iterations: 5 }] })).toMatch(/"click-model:pbm" is used twice/);
    expect(error({ name: 'x', dataset: { name: 'mq2008', fold: 6 } })).toMatch(/dataset\.fold: expected an integer ≥ 1 and ≤ 5, found 6/);
    expect(error({ name: 'x', seeds: [] })).toMatch(/seeds: expected at least one seed/);
    expect(error({ name: 'x', metrics: ['ndcg'] })).toMatch(/metrics\[0\]: expected a metric/);
    expect(error({ learners: ['naive'] })).toMatch(/name: expected a non-empty string, found nothing/);
  });

  it('applies command-line overrides and validates them like the file', () => {
    const s = loadScenario('sim/ultr-mq2008.json', { dataset: 'mq2008', fold: 3, seeds: [7, 8] });
    expect(s.dataset).toEqual({ name: 'mq2008', fold: 3 });
    expect(s.seeds).toEqual([7, 8]);
    expect(loadScenario('sim/ultr-mq2008.json', {}).seeds).toEqual([1, 2, 3, 4]);
    expect(() => loadScenario('sim/ultr-mq2008.json', { fold: 9 })).toThrow(/dataset\.fold: expected an integer ≥ 1 and ≤ 5, found 9/);
    expect(() => loadScenario('sim/ultr-mq2008.json', { dataset: 'mq2009' })).toThrow(/dataset\.name: .*found "mq2009" \(did you mean "mq2008"\?\)/);
    expect(() => loadScenario('sim/missing.json')).toThrow(/sim\/missing\.json: cannot read the scenario/);
  });

  it('suggests only plausible names', () => {
    expect(nearest('sesions', ['sessions', 'seeds'])).toBe('sessions');
    expect(nearest('zzzzzz', ['sessions', 'seeds'])).toBeNull();
  });
});
