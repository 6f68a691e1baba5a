import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import type { ClickModel } from '../../src/simulation/click-model.js';
import { createClickModel, defaultUbmGamma, TrustBiasModel, type ClickModelSpec } from '../../src/simulation/click-models/index.js';
import { EYE_TRACKING_PROFILE } from '../../src/simulation/examination.js';
import { simulateSessions, type SimulatedLog } from '../../src/simulation/sessions.js';

/** Four standard errors of a binomial proportion: a false alarm about once in 16,000 checks. */
const tolerance = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

// One fixed list of five documents shown in this order in every session; r is read back from the
// Float32Array so that the closed forms use exactly the values the simulator sees.
const relevance = Float32Array.from([0.8, 0.3, 0.6, 0.1, 0.5]);
const r = Array.from(relevance);
const n = r.length;
const N = 150_000;
const lists = { offsets: Int32Array.from([0, n]), documents: Int32Array.from({ length: n }, (_, i) => i) };

function simulate(model: ClickModel, seed: number): Required<SimulatedLog> {
  return simulateSessions(lists, { numSessions: N, clickModel: model, relevance, rng: randomStream(seed) });
}

/** Ranks whose click rate is more than 4 standard errors from its closed form (empty when all agree). */
function offRates({ log }: SimulatedLog, expected: readonly number[]): string[] {
  const clicks = new Float64Array(n);
  for (let row = 0; row < log.click.length; row++) clicks[log.position[row]] += log.click[row];
  const off: string[] = [];
  for (let k = 0; k < n; k++) {
    if (Math.abs(clicks[k] / N - expected[k]) > tolerance(expected[k], N)) off.push(`rank ${k}: ${clicks[k] / N} vs ${expected[k]}`);
  }
  return off;
}

/**
 * Cascade-family closed form by recursion over ranks: P(E_0) = 1, P(C_k) = P(E_k) r_k,
 * P(E_{k+1}) = P(E_k) (r_k · afterClick(k) + (1 − r_k) · afterSkip).
 */
function cascadeRates(afterClick: (k: number) => number, afterSkip: number): number[] {
  const rates: number[] = [];
  let exam = 1;
  for (let k = 0; k < n; k++) {
    rates.push(exam * r[k]);
    exam *= r[k] * afterClick(k) + (1 - r[k]) * afterSkip;
  }
  return rates;
}

/** Sessions with more than one click, or with an examined slot below a click. */
function stopsAtFirstClick({ log, truth }: Required<SimulatedLog>): number {
  let violations = 0;
  for (let s = 0; s < N; s++) {
    let clicked = false;
    for (let row = log.sessionOffsets[s]; row < log.sessionOffsets[s + 1]; row++) {
      if (clicked && (log.click[row] || truth.examined[row])) violations++;
      if (log.click[row]) clicked = true;
    }
  }
  return violations;
}

/**
 * examinationProbability is P(E_k = 1 | clicks above): group the slots by rank and the click
 * pattern above, and compare the examined count with the summed probabilities (4 standard errors
 * of the sum of Bernoulli(e) draws, plus float32 rounding slack).
 */
function offConditionalExamination({ log, truth }: Required<SimulatedLog>): string[] {
  const groups = 1 << n;
  const examined = new Float64Array(groups);
  const expected = new Float64Array(groups);
  const variance = new Float64Array(groups);
  for (let s = 0; s < N; s++) {
    let pattern = 0;
    const start = log.sessionOffsets[s];
    for (let k = 0; k < n; k++) {
      const key = (1 << k) | pattern; // unique: the leading bit says the rank
      const e = truth.examinationProbability[start + k];
      examined[key] += truth.examined[start + k];
      expected[key] += e;
      variance[key] += e * (1 - e);
      pattern |= log.click[start + k] << k;
    }
  }
  const off: string[] = [];
  for (let key = 1; key < groups; key++) {
    if (Math.abs(examined[key] - expected[key]) > 4 * Math.sqrt(variance[key]) + 0.05) off.push(`group ${key.toString(2)}: ${examined[key]} examined vs ${expected[key]}`);
  }
  return off;
}

describe('PBM through the factory', () => {
  it('clicks at rank k with probability κ_k r_k (baidu-ultr profile, η = 2)', () => {
    const baidu = [1, 0.674, 0.414, 0.293, 0.208];
    const run = simulate(createClickModel({ type: 'pbm', examination: 'baidu-ultr', eta: 2 }, n), 1);
    expect(
      offRates(
        run,
        r.map((rk, k) => baidu[k] ** 2 * rk),
      ),
    ).toEqual([]);
  });
});

describe('cascade model', () => {
  const run = simulate(createClickModel({ type: 'cascade' }, n), 2);

  it('clicks at rank k with probability r_k ∏_{j<k} (1 − r_j)', () => {
    const expected = r.map((rk, k) => rk * r.slice(0, k).reduce((p, rj) => p * (1 - rj), 1));
    expect(offRates(run, expected)).toEqual([]);
  });

  it('clicks at most once, examines exactly down to the first click, and says so in examinationProbability', () => {
    expect(stopsAtFirstClick(run)).toBe(0);
    let violations = 0;
    for (let s = 0; s < N; s++) {
      let clickAbove = false;
      for (let row = run.log.sessionOffsets[s]; row < run.log.sessionOffsets[s + 1]; row++) {
        const shouldExamine = clickAbove ? 0 : 1;
        if (run.truth.examined[row] !== shouldExamine || run.truth.examinationProbability[row] !== shouldExamine) violations++;
        if (run.log.click[row]) clickAbove = true;
      }
    }
    expect(violations).toBe(0);
  });
});

describe('DCM', () => {
  // λ shorter than the list: ranks 3 and 4 reuse 0.3.
  const lambda = [0.9, 0.6, 0.3];
  const run = simulate(createClickModel({ type: 'dcm', lambda }, n), 3);

  it('goes on after a click at rank k with probability λ_k (the last λ past its end), always after a skip', () => {
    expect(
      offRates(
        run,
        cascadeRates((k) => lambda[Math.min(k, 2)], 1),
      ),
    ).toEqual([]);
  });

  it('reports P(examined | clicks above) as examinationProbability', () => {
    expect(offConditionalExamination(run)).toEqual([]);
  });
});

describe('DBN', () => {
  const gamma = 0.9;
  const run = simulate(createClickModel({ type: 'dbn' }, n), 4);

  it('defaults to γ = 0.9 and s = a: P(E_{k+1}) = P(E_k) γ (1 − a_k s_k)', () => {
    // afterClick · r + afterSkip · (1 − r) = γ(1 − s)r + γ(1 − r) = γ(1 − r s)
    expect(
      offRates(
        run,
        cascadeRates((k) => gamma * (1 - r[k]), gamma),
      ),
    ).toEqual([]);
  });

  it('reports P(examined | clicks above) as examinationProbability', () => {
    expect(offConditionalExamination(run)).toEqual([]);
  });

  it('SDBN (γ = 1) with a constant satisfaction 0.4', () => {
    const sdbn = simulate(createClickModel({ type: 'dbn', gamma: 1, satisfaction: 0.4 }, n), 5);
    expect(
      offRates(
        sdbn,
        cascadeRates(() => 0.6, 1),
      ),
    ).toEqual([]);
    expect(offConditionalExamination(sdbn)).toEqual([]);
  });

  it('stops after a satisfied click: with s = 1 nothing below a click is examined', () => {
    const satisfied = simulate(createClickModel({ type: 'dbn', gamma, satisfaction: 1 }, n), 6);
    expect(stopsAtFirstClick(satisfied)).toBe(0);
    expect(
      offRates(
        satisfied,
        cascadeRates(() => 0, gamma),
      ),
    ).toEqual([]);
    // ... while with s = a some sessions click twice
    let twice = 0;
    for (let s = 0; s < N; s++) {
      let clicks = 0;
      for (let row = run.log.sessionOffsets[s]; row < run.log.sessionOffsets[s + 1]; row++) clicks += run.log.click[row];
      if (clicks > 1) twice++;
    }
    expect(twice).toBeGreaterThan(N / 100);
  });
});

describe('UBM', () => {
  // Distinct entries everywhere: γ[i][j] = 0.95 − 0.09 j − 0.01 i (rank i + 1, distance j + 1).
  const table = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => 0.95 - 0.09 * j - 0.01 * i));
  const run = simulate(createClickModel({ type: 'ubm', gamma: table }, n), 7);

  it('matches exact enumeration over the 2^5 click patterns', () => {
    const expected = new Array<number>(n).fill(0);
    for (let pattern = 0; pattern < 1 << n; pattern++) {
      let p = 1;
      let last = -1;
      for (let k = 0; k < n; k++) {
        const click = table[k][k - last - 1] * r[k];
        if ((pattern >> k) & 1) {
          p *= click;
          last = k;
        } else p *= 1 - click;
      }
      for (let k = 0; k < n; k++) if ((pattern >> k) & 1) expected[k] += p;
    }
    expect(offRates(run, expected)).toEqual([]);
  });

  it('examines rank 3 with γ_{3,1} after a click at rank 2 and with γ_{3,2} after a click at rank 1 and none at 2', () => {
    const clicks = [0, 0];
    const sessions = [0, 0];
    let wrongProbability = 0;
    for (let s = 0; s < N; s++) {
      const start = run.log.sessionOffsets[s];
      const c = run.log.click.subarray(start, start + n);
      const distance = c[1] ? 1 : c[0] ? 2 : 0;
      if (distance > 0) {
        sessions[distance - 1]++;
        clicks[distance - 1] += c[2];
        if (Math.abs(run.truth.examinationProbability[start + 2] - table[2][distance - 1]) > 1e-6) wrongProbability++;
      }
    }
    const p1 = table[2][0] * r[2];
    const p2 = table[2][1] * r[2];
    // the comparison can tell the two apart
    expect(p1 - p2).toBeGreaterThan(tolerance(p1, sessions[0]) + tolerance(p2, sessions[1]));
    expect(Math.abs(clicks[0] / sessions[0] - p1)).toBeLessThan(tolerance(p1, sessions[0]));
    expect(Math.abs(clicks[1] / sessions[1] - p2)).toBeLessThan(tolerance(p2, sessions[1]));
    expect(wrongProbability).toBe(0);
  });

  it('defaults to the eye-tracking profile by distance, so its diagonal (no click above) is PBM', () => {
    const gamma = defaultUbmGamma();
    expect(gamma.length).toBe(10);
    let violations = 0;
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) if (gamma[i][j] !== EYE_TRACKING_PROFILE[j]) violations++;
    expect(violations).toBe(0);
  });
});

describe('trust bias', () => {
  const kappa = [0.68, 0.61, 0.48, 0.34, 0.28];
  const plus = kappa.map((_, k) => 1 - (k + 2) / 100);
  const minus = kappa.map((_, k) => 0.65 / (k + 1));
  const model = createClickModel({ type: 'trust-bias' }, n);

  it('clicks with κ_k (ε⁺_k r + ε⁻_k (1 − r)), Vardasbi et al.’s ε by default', () => {
    const run = simulate(model, 8);
    expect(
      offRates(
        run,
        r.map((rk, k) => kappa[k] * (plus[k] * rk + minus[k] * (1 - rk))),
      ),
    ).toEqual([]);
  });

  it('exposes the affine form α_k = κ_k (ε⁺_k − ε⁻_k), β_k = κ_k ε⁻_k, reusing the last rank past the end', () => {
    expect(model).toBeInstanceOf(TrustBiasModel);
    const { alpha, beta } = model.affine(7);
    let violations = 0;
    for (let k = 0; k < 7; k++) {
      const j = Math.min(k, n - 1);
      if (Math.abs(alpha[k] - kappa[j] * (plus[j] - minus[j])) > 1e-12 || Math.abs(beta[k] - kappa[j] * minus[j]) > 1e-12) violations++;
    }
    expect(violations).toBe(0);
  });
});

describe('multinomial logit with a no-click option', () => {
  const run = simulate(createClickModel({ type: 'mnl', positionBias: [0.5, 0, -0.5], noClickUtility: 1 }, n), 9);
  const weights = r.map((rk, k) => rk * Math.exp([0.5, 0, -0.5][Math.min(k, 2)]));
  const total = Math.E + weights.reduce((a, b) => a + b, 0);

  it('picks slot k with probability r_k e^{b_k} / (e^{u_∅} + Σ_j r_j e^{b_j})', () => {
    expect(
      offRates(
        run,
        weights.map((w) => w / total),
      ),
    ).toEqual([]);
  });

  it('clicks at most once, leaves e^{u_∅}/(…) of sessions without a click, and marks every slot examined', () => {
    let none = 0;
    let violations = 0;
    for (let s = 0; s < N; s++) {
      let clicks = 0;
      for (let row = run.log.sessionOffsets[s]; row < run.log.sessionOffsets[s + 1]; row++) {
        clicks += run.log.click[row];
        if (run.truth.examined[row] !== 1 || run.truth.examinationProbability[row] !== 1) violations++;
      }
      if (clicks > 1) violations++;
      if (clicks === 0) none++;
    }
    expect(violations).toBe(0);
    const p = Math.E / total;
    expect(Math.abs(none / N - p)).toBeLessThan(tolerance(p, N));
  });

  it('defaults to b_k = ln v_k (eye-tracking) and u_∅ = 0', () => {
    const defaults = simulate(createClickModel({ type: 'mnl' }, n), 10);
    const w = r.map((rk, k) => rk * EYE_TRACKING_PROFILE[k]);
    const sum = 1 + w.reduce((a, b) => a + b, 0);
    expect(
      offRates(
        defaults,
        w.map((x) => x / sum),
      ),
    ).toEqual([]);
  });
});

describe('createClickModel validation', () => {
  const bad = (spec: unknown) => () => createClickModel(spec as ClickModelSpec, 10);

  it('names the field, what was expected and what was found', () => {
    expect(bad({ type: 'dcm', lambda: [0.5, 0.5, 0.5, 1.2] })).toThrow(/^clickModel\.lambda\[3\]: expected a probability in \[0, 1\], found 1\.2$/);
    expect(bad({ type: 'dcm', lambda: [] })).toThrow(/clickModel\.lambda: expected a non-empty array/);
    expect(bad({ type: 'dbn', gamma: -0.1 })).toThrow(/clickModel\.gamma: expected a probability/);
    expect(bad({ type: 'dbn', satisfaction: 'always' })).toThrow(/clickModel\.satisfaction: expected a probability in \[0, 1\] or "attractiveness", found "always"/);
    expect(bad({ type: 'ubm', gamma: [[0.5, 0.5], [0.5]] })).toThrow(/clickModel\.gamma\[1\]: expected a row of 2 probabilities/);
    expect(
      bad({
        type: 'ubm',
        gamma: [
          [0.5, 0.5],
          [0.5, 2],
        ],
      }),
    ).toThrow(/clickModel\.gamma\[1\]\[1\]: expected a probability/);
    expect(bad({ type: 'trust-bias', epsilonMinus: [0.1, Number.NaN] })).toThrow(/clickModel\.epsilonMinus\[1\]: .*found NaN/);
    expect(bad({ type: 'pbm', eta: -1 })).toThrow(/clickModel\.eta: expected a finite number ≥ 0, found -1/);
    expect(bad({ type: 'pbm', examination: 'eyes' })).toThrow(/clickModel\.examination: expected one of eye-tracking, inverse-rank, exponential, baidu-ultr, found "eyes"/);
    expect(bad({ type: 'mnl', positionBias: [0, Infinity] })).toThrow(/clickModel\.positionBias\[1\]: expected a finite number/);
    expect(bad({ type: 'mnl', noClickUtility: '0' })).toThrow(/clickModel\.noClickUtility: expected a finite number, found "0"/);
    expect(bad({ type: 'cascad' })).toThrow(/clickModel\.type: expected one of pbm, cascade, dcm, dbn, ubm, trust-bias, mnl, found "cascad"/);
    expect(bad({ type: 'dcm', lamda: [0.5] })).toThrow(/clickModel\.lamda: unknown field/);
    expect(bad({ type: 'cascade' })).not.toThrow();
    expect(bad({ type: 'dcm', lambda: [2] })).toThrow(ConfigError);
  });
});
