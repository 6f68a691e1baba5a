import { describe, expect, it } from 'vitest';
import { ClickLabError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog } from '../../src/core/types.js';
import { createFittableModel, evaluateClickModel, fitClickModel, FITTED_MODEL_TYPES, FittedCcm, FittedDbn, FittedDcm, FittedPbm, indexClickLog } from '../../src/fitting/index.js';
import { DynamicBayesianNetworkModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

/** A log from sessions given as (query, documents, clicks). */
function makeLog(sessions: { query: number; documents: number[]; clicks: number[] }[]): ClickLog {
  const offsets = [0];
  for (const s of sessions) offsets.push(offsets[offsets.length - 1] + s.documents.length);
  return {
    sessionQuery: Int32Array.from(sessions.map((s) => s.query)),
    sessionOffsets: Int32Array.from(offsets),
    document: Int32Array.from(sessions.flatMap((s) => s.documents)),
    position: Uint16Array.from(sessions.flatMap((s) => s.documents.map((_, k) => k))),
    click: Uint8Array.from(sessions.flatMap((s) => s.clicks)),
  };
}

const tiny = makeLog([
  { query: 0, documents: [0, 1], clicks: [1, 0] },
  { query: 0, documents: [1, 0], clicks: [0, 0] },
]);

describe('log-likelihood and perplexity (PyClick definitions)', () => {
  it('match a hand computation on a two-session PBM log', () => {
    const log = indexClickLog(tiny);
    // Pairs by first appearance: (0, 0) → 0, (0, 1) → 1.
    const model = FittedPbm.restore([0.8, 0.4], { examination: [0.9, 0.5] });
    const q = evaluateClickModel(model, log, Int32Array.of(0, 1));
    // Session 0: click at rank 1 with κα = 0.72, skip at rank 2 with 1 − 0.5·0.4 = 0.8.
    // Session 1: skips with 1 − 0.9·0.4 = 0.64 and 1 − 0.5·0.8 = 0.6.
    expect(q.logLikelihood).toBeCloseTo(((Math.log(0.72) + Math.log(0.8)) / 2 + (Math.log(0.64) + Math.log(0.6)) / 2) / 2, 12);
    const p1 = 2 ** (-(Math.log2(0.72) + Math.log2(0.64)) / 2);
    const p2 = 2 ** (-(Math.log2(0.8) + Math.log2(0.6)) / 2);
    expect(q.perplexityAtRank[0]).toBeCloseTo(p1, 12);
    expect(q.perplexityAtRank[1]).toBeCloseTo(p2, 12);
    expect(q.perplexity).toBeCloseTo((p1 + p2) / 2, 12);
  });

  it('DBN: conditional and unconditional click probabilities by hand', () => {
    const log = indexClickLog(makeLog([{ query: 3, documents: [7, 8, 9], clicks: [0, 1, 0] }]));
    const [a0, a1, a2] = [0.3, 0.6, 0.45];
    const [s0, s1, s2] = [0.4, 0.7, 0.25];
    const g = 0.8;
    const model = FittedDbn.restore([a0, a1, a2], { gamma: g, satisfaction: [s0, s1, s2] }, 3, false);
    const conditional = new Float64Array(3);
    model.conditionalClickProbabilities(log, 0, conditional);
    // e_0 = 1: skip with 1 − a0; e_1 = γ (the skip proves nothing about going on); click a1 γ; then e_2 = γ (1 − s1).
    expect(Array.from(conditional)).toEqual([1 - a0, a1 * g, 1 - a2 * g * (1 - s1)].map((v) => expect.closeTo(v, 12)));
    const q = evaluateClickModel(model, log, Int32Array.of(0));
    // P(E_1) = γ (1 − a0 s0), P(E_2) = P(E_1) γ (1 − a1 s1); perplexity of one session at rank k is 1 / P(observed).
    const e1 = g * (1 - a0 * s0);
    const e2 = e1 * g * (1 - a1 * s1);
    expect(q.perplexityAtRank.map((p) => 1 / p)).toEqual([1 - a0, a1 * e1, 1 - a2 * e2].map((v) => expect.closeTo(v, 12)));
  });

  it('one EM iteration of PBM from 0.5 matches the hand update (1 + posteriors) / (2 + slots)', () => {
    const report = fitClickModel(tiny, { model: 'pbm', iterations: 1, testFraction: 0 });
    const model = report.model as FittedPbm;
    // From 0.5, a skip's posterior of attraction and of examination is 0.25 / 0.75 = 1/3.
    expect(Array.from(model.attractiveness.value)).toEqual([7 / 12, 5 / 12].map((v) => expect.closeTo(v, 12)));
    expect(Array.from(model.examination.value)).toEqual([7 / 12, 5 / 12].map((v) => expect.closeTo(v, 12)));
  });
});

/**
 * The exact posteriors of the cascade family's E-step against brute-force enumeration of every
 * hidden configuration (attraction A_k, the relevance or satisfaction S_k of a click, the go-on
 * draw G_k): after a click S_k ~ Bernoulli(σ_k), and the user goes on with `afterSatisfied` if
 * S_k = 1 and `afterUnsatisfied` if not; after a skip with `afterSkip`. Expected go-on trials and
 * successes are counted per situation (skip, click with S = 0, click with S = 1).
 */
function enumeratePosteriors(alpha: number[], sigma: number[], go: { afterSatisfied: number; afterUnsatisfied: number; afterSkip: number }, clicks: number[]) {
  const n = alpha.length;
  const attracted = new Float64Array(n);
  const satisfied = new Float64Array(n);
  const successes = { skip: 0, unsatisfied: 0, satisfied: 0 };
  const trials = { skip: 0, unsatisfied: 0, satisfied: 0 };
  type Situation = keyof typeof trials;
  let total = 0;
  const walk = (k: number, examining: boolean, weight: number, a: number[], s: number[], moves: [Situation, number][]): void => {
    if (weight === 0) return;
    if (k === n) {
      total += weight;
      a.forEach((v, i) => {
        attracted[i] += weight * v;
      });
      s.forEach((v, i) => {
        satisfied[i] += weight * v;
      });
      for (const [situation, went] of moves) {
        trials[situation] += weight;
        successes[situation] += weight * went;
      }
      return;
    }
    const step = (w: number, A: number, S: number, situation: Situation | null, p: number) => {
      if (situation === null) return walk(k + 1, false, w, [...a, A], [...s, S], moves);
      walk(k + 1, true, w * p, [...a, A], [...s, S], [...moves, [situation, 1]]);
      walk(k + 1, false, w * (1 - p), [...a, A], [...s, S], [...moves, [situation, 0]]);
    };
    for (const A of [0, 1]) {
      const w = weight * (A ? alpha[k] : 1 - alpha[k]);
      const C = examining ? A : 0;
      if (C !== clicks[k]) continue;
      if (!examining) step(w, A, 0, null, 0);
      else if (!C) step(w, A, 0, 'skip', go.afterSkip);
      else {
        step(w * sigma[k], A, 1, 'satisfied', go.afterSatisfied);
        step(w * (1 - sigma[k]), A, 0, 'unsatisfied', go.afterUnsatisfied);
      }
    }
  };
  walk(0, true, 1, [], [], []);
  const per = (o: Record<Situation, number>) => ({ skip: o.skip / total, unsatisfied: o.unsatisfied / total, satisfied: o.satisfied / total });
  return { attracted: Array.from(attracted, (v) => v / total), satisfied: Array.from(satisfied, (v) => v / total), successes: per(successes), trials: per(trials) };
}

const alpha = [0.3, 0.6, 0.45, 0.2];
const sigma = [0.4, 0.7, 0.25, 0.5];
const patterns = [
  [0, 0, 0, 0],
  [0, 1, 0, 0],
  [1, 0, 1, 0],
  [0, 0, 0, 1],
  [1, 1, 0, 0],
];

describe('the cascade family E-step is exact', () => {
  it.each(patterns.map((clicks) => ({ clicks, name: clicks.join('') })))('DBN posteriors of attraction, satisfaction and going on, clicks $name', ({ clicks }) => {
    const gamma = 0.8;
    const log = indexClickLog(makeLog([{ query: 0, documents: [0, 1, 2, 3], clicks }]));
    const model = FittedDbn.restore(alpha, { gamma, satisfaction: sigma }, 4, false);
    model.iterate(log, Int32Array.of(0));
    const truth = enumeratePosteriors(alpha, sigma, { afterSatisfied: 0, afterUnsatisfied: gamma, afterSkip: gamma }, clicks);
    expect(Array.from(model.attractiveness.numerator)).toEqual(truth.attracted.map((v) => expect.closeTo(v, 12)));
    // Only the last click's satisfaction is uncertain; clicks above it were not satisfying.
    expect(Array.from(model.satisfaction.numerator)).toEqual(truth.satisfied.map((v) => expect.closeTo(v, 12)));
    // γ is the go-on probability of an examined, unsatisfied result, clicked or not.
    expect(model.continuationParameter.numerator[0]).toBeCloseTo(truth.successes.skip + truth.successes.unsatisfied, 12);
    expect(model.continuationParameter.denominator[0]).toBeCloseTo(truth.trials.skip + truth.trials.unsatisfied, 12);
  });

  it.each(patterns.map((clicks) => ({ clicks, name: clicks.join('') })))('DCM posteriors of attraction and of going on after the last click, clicks $name', ({ clicks }) => {
    const lambda = [0.6, 0.5, 0.35, 0.3];
    const log = indexClickLog(makeLog([{ query: 0, documents: [0, 1, 2, 3], clicks }]));
    const model = FittedDcm.restore(alpha, { lambda });
    model.iterate(log, Int32Array.of(0));
    const truth = enumeratePosteriors(
      alpha,
      lambda.map((l) => 1 - l),
      { afterSatisfied: 0, afterUnsatisfied: 1, afterSkip: 1 },
      clicks,
    );
    expect(Array.from(model.attractiveness.numerator)).toEqual(truth.attracted.map((v) => expect.closeTo(v, 12)));
    // λ_k's numerator: the posterior of going on after each click = 1 − P(S_k = 1 | C).
    const wentOn = clicks.map((c, k) => (c ? 1 - truth.satisfied[k] : 0));
    expect(Array.from(model.lambda.numerator)).toEqual(wentOn.map((v) => expect.closeTo(v, 12)));
  });

  it.each(patterns.map((clicks) => ({ clicks, name: clicks.join('') })))('CCM posteriors of attraction, relevance and the three continuations, clicks $name', ({ clicks }) => {
    const tau = [0.85, 0.6, 0.3];
    const log = indexClickLog(makeLog([{ query: 0, documents: [0, 1, 2, 3], clicks }]));
    const model = FittedCcm.restore(alpha, { tau }, 4);
    model.iterate(log, Int32Array.of(0));
    // A click's relevance R ~ Bernoulli(α): go on with τ3 if relevant, τ2 if not; τ1 after a skip.
    const truth = enumeratePosteriors(alpha, alpha, { afterSatisfied: tau[2], afterUnsatisfied: tau[1], afterSkip: tau[0] }, clicks);
    // α pools attraction (every slot) and relevance (every click).
    expect(Array.from(model.attractiveness.numerator)).toEqual(truth.attracted.map((v, k) => expect.closeTo(v + truth.satisfied[k], 12)));
    expect(Array.from(model.attractiveness.denominator)).toEqual(clicks.map((c) => 1 + c));
    expect(Array.from(model.tau.numerator)).toEqual([truth.successes.skip, truth.successes.unsatisfied, truth.successes.satisfied].map((v) => expect.closeTo(v, 12)));
    expect(Array.from(model.tau.denominator)).toEqual([truth.trials.skip, truth.trials.unsatisfied, truth.trials.satisfied].map((v) => expect.closeTo(v, 12)));
  });
});

describe('every fitted model is one distribution', () => {
  // Fit each model on a small DBN log, then check on a 4-result list that the conditional
  // probabilities (the log-likelihood's) multiply to a distribution over the 16 click patterns
  // whose marginals are the unconditional click probabilities (the perplexity's).
  const sim = simulateSessions(
    { offsets: Int32Array.of(0, 4), documents: Int32Array.of(0, 1, 2, 3) },
    {
      numSessions: 3000,
      clickModel: new DynamicBayesianNetworkModel(0.8, 'attractiveness'),
      relevance: Float32Array.of(0.5, 0.3, 0.6, 0.2),
      rng: randomStream('fit-consistency'),
      intervention: 'shuffle',
      truth: false,
    },
  );
  const all = makeLog(Array.from({ length: 16 }, (_, m) => ({ query: 0, documents: [0, 1, 2, 3], clicks: [0, 1, 2, 3].map((k) => (m >> k) & 1) })));

  it.each(FITTED_MODEL_TYPES.map((t) => [t]))('%s', (type) => {
    const fitted = fitClickModel(sim.log, { model: type, iterations: 20, testFraction: 0 }).model;
    const log = indexClickLog(all);
    // The same pair ids as in the fit: the fit indexed the documents in first-appearance order.
    const fitLog = indexClickLog(sim.log);
    const remap = Int32Array.from({ length: 4 }, (_, d) => Array.from(fitLog.pairDocument).indexOf(d));
    const pair = Int32Array.from(log.pair, (p) => remap[log.pairDocument[p]]);
    const view = { ...log, pair };
    const cond = new Float64Array(4);
    const marginal = new Float64Array(4);
    let total = 0;
    for (let s = 0; s < 16; s++) {
      fitted.conditionalClickProbabilities(view, s, cond);
      const p = cond.reduce((prod, v) => prod * v, 1);
      total += p;
      for (let k = 0; k < 4; k++) marginal[k] += p * all.click[4 * s + k];
    }
    expect(total).toBeCloseTo(1, 12);
    const full = new Float64Array(4);
    const simulator = fitted.simulator();
    simulator.prepare(pair, 0, 4);
    simulator.clickModel.clickProbabilities(
      Array.from({ length: 4 }, (_, k) => fitted.attractiveness.value[pair[k]]),
      4,
      full,
    );
    expect(Array.from(full)).toEqual(Array.from(marginal, (v) => expect.closeTo(v, 12)));
  });
});

describe('bad input', () => {
  it('rejects an empty log', () => {
    const empty = makeLog([]);
    expect(() => fitClickModel(empty, { model: 'pbm', source: 'empty.csv' })).toThrow(/empty\.csv: the log has no sessions/);
  });

  it('rejects a session longer than the model’s list length, naming it', () => {
    const log = makeLog([
      { query: 0, documents: [0, 1], clicks: [0, 1] },
      { query: 1, documents: [2, 3, 4], clicks: [1, 0, 0] },
    ]);
    expect(() => fitClickModel(log, { model: 'ubm', listLength: 2, source: 'log.csv' })).toThrow(/log\.csv: session 1 shows 3 results, beyond the model's list length of 2 ranks/);
    const model = createFittableModel('pbm', 5, 2);
    expect(() => evaluateClickModel(model, indexClickLog(log), Int32Array.of(0, 1))).toThrow(/session 1 shows 3 results; the model has parameters for 2 ranks/);
  });

  it('rejects positions out of rank order', () => {
    const log = { ...tiny, position: Uint16Array.of(0, 1, 1, 0) };
    expect(() => fitClickModel(log, { model: 'dbn' })).toThrow(ClickLabError);
    expect(() => fitClickModel(log, { model: 'dbn' })).toThrow(/session 1 has a result at 0-based position 1 in slot 0/);
  });

  it('rejects an unknown model and a bad iteration count', () => {
    expect(() => fitClickModel(tiny, { model: 'fcm' as never })).toThrow(/model: expected one of pbm, cm, dcm, dbn, sdbn, ubm, ccm, found "fcm"/);
    expect(() => fitClickModel(tiny, { model: 'pbm', iterations: 0 })).toThrow(/iterations: expected an integer ≥ 1/);
  });

  it('gives a pair seen only in test sessions PyClick’s 0.5 and counts its slots', () => {
    const sessions = Array.from({ length: 40 }, (_, i) => ({ query: i % 4, documents: [i % 4, 10 + i], clicks: [i % 2, 0] }));
    const report = fitClickModel(makeLog(sessions), { model: 'dbn', testFraction: 0.25, seed: 3 });
    expect(report.test.length).toBe(10);
    const inTrain = new Set<number>();
    for (const s of report.train) for (let r = report.log.offsets[s]; r < report.log.offsets[s + 1]; r++) inTrain.add(report.log.pair[r]);
    let unseen = 0;
    for (const s of report.test) {
      for (let r = report.log.offsets[s]; r < report.log.offsets[s + 1]; r++) {
        if (inTrain.has(report.log.pair[r])) continue;
        unseen++;
        expect(report.model.attractiveness.value[report.log.pair[r]]).toBe(0.5);
        expect((report.model as FittedDbn).satisfaction.value[report.log.pair[r]]).toBe(0.5);
      }
    }
    expect(unseen).toBe(10); // each test session's second document appears in no other session
    expect(report.unseenTestSlots).toBe(unseen);
  });
});
