import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { cascadeObserved, createPolicy, PbmUCB, POLICY_FEEDBACK, POLICY_TYPES, type PolicyEnvironment } from '../../src/policies/bandits/index.js';
import { expectValidSlate } from './helpers.js';

const env: PolicyEnvironment = {
  numItems: 12,
  slateSize: 4,
  positionWeights: [1, 0.7, 0.5, 0.3, 0.2],
  userFeatures: [
    [1, 0.2],
    [0.4, 1],
    [1, 1],
  ],
  itemFeatures: Array.from({ length: 12 }, (_, i) => [1, i / 12]),
};

function errorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('createPolicy', () => {
  it('builds every type with defaults; each runs online with valid slates, reproducibly, with propensities summing to 1 per position', () => {
    const attraction = Float64Array.from({ length: 12 }, (_, i) => 0.05 + 0.05 * i);
    for (const type of POLICY_TYPES) {
      const spec = type === 'plackett-luce' ? { type, scores: Array.from({ length: 12 }, (_, i) => i / 6) } : { type };
      const run = () => {
        const policy = createPolicy(spec, env);
        const rng = randomStream(`factory/${type}`);
        const world = randomStream(`factory/${type}/world`);
        const slate = new Int32Array(4);
        const clicks = new Uint8Array(4);
        const observed = new Uint8Array(4);
        const shown: number[] = [];
        for (let r = 0; r < 150; r++) {
          const user = r % 3;
          policy.choose(rng, slate, user);
          expectValidSlate(slate, 12);
          shown.push(...slate);
          for (let k = 0; k < 4; k++) clicks[k] = world.uniform() < 0.8 ** k * attraction[slate[k]] ? 1 : 0;
          if (POLICY_FEEDBACK[type] === 'cascade') cascadeObserved(clicks, observed);
          else observed.fill(1);
          policy.update(slate, clicks, observed, user);
        }
        return { policy, shown };
      };
      const { policy, shown } = run();
      expect(run().shown, type).toEqual(shown);
      expect(policy.name).toBe(type);
      expect((policy as unknown as { feedback: string }).feedback).toBe(POLICY_FEEDBACK[type]);
      const out = new Float64Array(12 * 4);
      policy.positionPropensities(randomStream('p'), 500, out, 1);
      for (let k = 0; k < 4; k++) {
        let column = 0;
        for (let i = 0; i < 12; i++) column += out[i * 4 + k];
        expect(column, `${type} position ${k}`).toBeCloseTo(1, 9);
      }
    }
  });

  it('applies parameters and labels', () => {
    const policy = createPolicy({ type: 'pbm-ucb', epsilon: 0.5, positionWeights: [0.9, 0.8, 0.7, 0.6], label: 'ucb-a' }, env);
    expect(policy).toBeInstanceOf(PbmUCB);
    expect(policy.name).toBe('ucb-a');
    expect((policy as PbmUCB).epsilon).toBe(0.5);
    expect(Array.from((policy as PbmUCB).positionWeights)).toEqual([0.9, 0.8, 0.7, 0.6]);
    const fromEnv = createPolicy({ type: 'pbm-ts' }, env) as unknown as { positionWeights: Float64Array; a: number };
    expect(Array.from(fromEnv.positionWeights)).toEqual([1, 0.7, 0.5, 0.3]);
    expect(fromEnv.a).toBe(0.5);
    const ts = createPolicy({ type: 'bernoulli-ts', alpha: 2, beta: Array.from({ length: 12 }, (_, i) => i + 1) }, env) as unknown as { posterior(i: number): [number, number] };
    expect(ts.posterior(5)).toEqual([2, 6]);
  });

  it('names the field, what was expected and what was found, with the nearest type for a typo', () => {
    let e = errorOf(() => createPolicy({ type: 'bernouli-ts' }, env));
    expect(e.path).toBe('policy.type');
    expect(e.message).toMatch(/expected one of "bernoulli-ts", .*found "bernouli-ts" \(did you mean "bernoulli-ts"\?\)/);
    e = errorOf(() => createPolicy({ type: 'epsilon-greddy' }, env, 'bandit.policies[2]'));
    expect(e.message).toMatch(/^bandit\.policies\[2\]\.type: .*did you mean "epsilon-greedy"/);
    e = errorOf(() => createPolicy({ type: 'bernoulli-ts', alpah: 2 }, env));
    expect(e.message).toBe('policy.alpah: unknown field for "bernoulli-ts" (did you mean "alpha"?); expected one of type, label, alpha, beta');
    e = errorOf(() => createPolicy({ type: 'bernoulli-ts', alpha: [1, 2, 3] }, env));
    expect(e.message).toBe('policy.alpha: expected an array of 12 numbers, found 3');
    e = errorOf(() => createPolicy({ type: 'bernoulli-ts', beta: Array.from({ length: 12 }, (_, i) => (i === 2 ? -1 : 1)) }, env));
    expect(e.message).toBe('policy.beta[2]: expected a number > 0, found -1');
    e = errorOf(() => createPolicy({ type: 'pbm-ts' }, { numItems: 5, slateSize: 2 }));
    expect(e.message).toMatch(/^policy\.positionWeights: expected 2 position weights .*found nothing/);
    e = errorOf(() => createPolicy({ type: 'pbm-ucb', positionWeights: [1, 0, 0.5, 0.5] }, env));
    expect(e.message).toBe('policy.positionWeights[1]: expected an examination probability in (0, 1], found 0');
    e = errorOf(() => createPolicy({ type: 'epsilon-greedy', epsilon: 1.5 }, env));
    expect(e.message).toBe('policy.epsilon: expected a probability in [0, 1], found 1.5');
    e = errorOf(() => createPolicy({ type: 'plackett-luce' }, env));
    expect(e.message).toBe('policy.scores: expected an array of 12 scores (one per item), found nothing');
    e = errorOf(() => createPolicy({ type: 'lin-ts', features: 'outr' }, env));
    expect(e.message).toBe('policy.features: expected "outer" or "concat", found "outr" (did you mean "outer"?)');
    e = errorOf(() => createPolicy({ type: 'lin-ts' }, { numItems: 3, slateSize: 2 }));
    expect(e.message).toMatch(/^policy: "lin-ts" needs user and item features/);
    e = errorOf(() => createPolicy('bernoulli-ts', env));
    expect(e.message).toBe('policy: expected an object like {"type": "bernoulli-ts"}, found "bernoulli-ts"');
    e = errorOf(() => createPolicy({ type: 'random', label: '' }, env));
    expect(e.message).toBe('policy.label: expected a non-empty string, found ""');
    e = errorOf(() => createPolicy({ type: 'random' }, { numItems: 3, slateSize: 4 }));
    expect(e.message).toBe('slateSize: expected an integer in [1, 3] (numItems), found 4');
  });
});
