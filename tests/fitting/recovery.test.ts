import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog } from '../../src/core/types.js';
import { estimatePropensitiesByEm, fitClickModel, FittedCcm, type FittedDbn, type FittedDcm, type FittedPbm, type FittedUbm, pbmPropensities, type FitReport } from '../../src/fitting/index.js';
import type { ClickModel } from '../../src/simulation/click-model.js';
import { CascadeModel, DependentClickModel, DynamicBayesianNetworkModel, PositionBasedModel, UserBrowsingModel } from '../../src/simulation/click-models/index.js';
import { EYE_TRACKING_PROFILE } from '../../src/simulation/examination.js';
import { simulateSessions, type SimulatedLog } from '../../src/simulation/sessions.js';

/**
 * EM recovers the parameters of logs simulated by clicklab's own click-model simulators.
 * World: 10 queries × 10 documents, attractiveness uniform in [0.1, 0.9] (seeded), each session
 * showing its query's 10 documents in a random order (the RandTop-10 intervention), so every
 * document is seen at every rank. Tolerances are 5 standard errors; each SE is stated where it is
 * computed. EM's maximum-likelihood estimate is asymptotically efficient, so its standard error is
 * at most that of the simple moment estimators the SEs below are taken from.
 */
const Q = 10;
const D = 10;
const lists = { offsets: Int32Array.from({ length: Q + 1 }, (_, q) => q * D), documents: Int32Array.from({ length: Q * D }, (_, i) => i) };
const relevance = (() => {
  const rng = randomStream('fit-recovery/relevance');
  return Float32Array.from({ length: Q * D }, () => 0.1 + 0.8 * rng.uniform());
})();
const Z = 5;

function simulate(clickModel: ClickModel, sessions: number, seed: string): Required<SimulatedLog> {
  return simulateSessions(lists, { numSessions: sessions, clickModel, relevance, rng: randomStream(seed), intervention: 'shuffle' });
}

/** Fit on every session (no test split), so each estimate uses the counts below. */
function fit(log: ClickLog, model: FitReport['model']['type']): FitReport {
  return fitClickModel(log, { model, testFraction: 0 });
}

/** The fitted value of document d (its pair id; pairs are numbered by first appearance). */
function byDocument(report: FitReport, values: Float64Array): Float64Array {
  const out = new Float64Array(Q * D);
  for (let p = 0; p < values.length; p++) out[report.log.pairDocument[p]] = values[p];
  return out;
}

/** Per document: examinations and clicks, from the simulator's hidden truth. */
function countsFromTruth({ log, truth }: Required<SimulatedLog>): { examined: Float64Array; clicked: Float64Array } {
  const examined = new Float64Array(Q * D);
  const clicked = new Float64Array(Q * D);
  for (let row = 0; row < log.document.length; row++) {
    examined[log.document[row]] += truth.examined[row];
    clicked[log.document[row]] += log.click[row];
  }
  return { examined, clicked };
}

/** Largest |estimate − truth| / SE, and where. */
function worst(estimates: ArrayLike<number>, truths: ArrayLike<number>, ses: ArrayLike<number>): { z: number; at: number } {
  let z = 0;
  let at = -1;
  for (let i = 0; i < estimates.length; i++) {
    const zi = Math.abs(estimates[i] - truths[i]) / ses[i];
    if (zi > z) [z, at] = [zi, i];
  }
  return { z, at };
}

describe('EM recovers click-model parameters from simulated logs', () => {
  it('PBM: examination relative to rank 1 and attractiveness (up to the scale PBM cannot identify)', () => {
    const N = 100_000;
    const kappa = Float64Array.from(EYE_TRACKING_PROFILE);
    const simulated = simulate(new PositionBasedModel(kappa), N, 'fit-recovery/pbm');
    const report = fit(simulated.log, 'pbm');
    const model = report.model as FittedPbm;
    // P(C_k) = κ_k α: only the products are identified, so κ is compared relative to rank 1 and α
    // scaled by κ̂_1 / κ_1. SE of κ_k/κ_1 from the RandTop-10 moment estimator CTR_k / CTR_1 (delta method).
    const ctr = new Float64Array(D);
    for (let row = 0; row < simulated.log.click.length; row++) ctr[simulated.log.position[row]] += simulated.log.click[row] / N;
    const relative = pbmPropensities(model);
    const truthRelative = Array.from(kappa, (v) => v / kappa[0]);
    const seRelative = truthRelative.map((r, k) => (k === 0 ? 1 : r * Math.sqrt((1 - ctr[k]) / (N * ctr[k]) + (1 - ctr[0]) / (N * ctr[0]))));
    const k = worst(relative, truthRelative, seRelative);
    expect(k.z, `rank ${k.at + 1}: ${relative[k.at]} vs ${truthRelative[k.at]}`).toBeLessThan(Z);
    expect(estimatePropensitiesByEm(simulated.log)).toEqual(relative); // the learning side's entry point: the same fit
    // α_d κ_1 from CTR_d / mean κ: SE = sqrt(c (1 − c) / n_d) / mean(κ) · κ_1, c = α_d mean(κ).
    const meanKappa = kappa.reduce((s, v) => s + v, 0) / D;
    const shown = N / Q;
    const alpha = byDocument(report, model.attractiveness.value).map((a) => (a * model.examination.value[0]) / kappa[0]);
    const seAlpha = Array.from(relevance, (a) => Math.sqrt((a * meanKappa * (1 - a * meanKappa)) / shown) / meanKappa);
    const a = worst(alpha, relevance, seAlpha);
    expect(a.z, `document ${a.at}: ${alpha[a.at]} vs ${relevance[a.at]}`).toBeLessThan(Z);
  });

  it('UBM: the examination table relative to γ(1, 1), on every cell with data', () => {
    const N = 100_000;
    const gamma = Array.from({ length: D }, (_, k) => Array.from({ length: D }, (_, d) => EYE_TRACKING_PROFILE[d] * (1 - 0.02 * k)));
    const simulated = simulate(new UserBrowsingModel(gamma.map((row) => Float64Array.from(row))), N, 'fit-recovery/ubm');
    const report = fit(simulated.log, 'ubm');
    const model = report.model as FittedUbm;
    const table = model.table();
    // Trials and clicks per cell (rank k, distance index k − k′ − 1), from the log.
    const trials = new Float64Array(D * D);
    const clicks = new Float64Array(D * D);
    const { sessionOffsets: offsets, click } = simulated.log;
    for (let s = 0; s < N; s++) {
      let last = -1;
      for (let k = 0; k < D; k++) {
        const cell = k * D + (k - last - 1);
        trials[cell]++;
        clicks[cell] += click[offsets[s] + k];
        if (click[offsets[s] + k]) last = k;
      }
    }
    // γ_{k,d}/γ_{1,1} against the truth on cells with ≥ 2,000 trials; SE of the moment estimator
    // CTR_cell / CTR_(1,1) (the attractiveness of what a cell shows averages out under shuffling).
    const estimates: number[] = [];
    const truths: number[] = [];
    const ses: number[] = [];
    const c0 = clicks[0] / trials[0];
    for (let cell = 0; cell < D * D; cell++) {
      if (trials[cell] < 2000) continue;
      const c = clicks[cell] / trials[cell];
      const truth = gamma[Math.floor(cell / D)][cell % D] / gamma[0][0];
      estimates.push(table[Math.floor(cell / D)][cell % D] / table[0][0]);
      truths.push(truth);
      ses.push(truth * Math.sqrt((1 - c) / (trials[cell] * c) + (1 - c0) / (trials[0] * c0)));
    }
    expect(estimates.length).toBeGreaterThanOrEqual(40);
    const g = worst(estimates, truths, ses);
    expect(g.z, `cell ${g.at}: ${estimates[g.at]} vs ${truths[g.at]}`).toBeLessThan(Z);
  });

  it('DBN: continuation γ, and attractiveness and satisfaction per document', () => {
    const N = 100_000;
    const simulated = simulate(new DynamicBayesianNetworkModel(0.9, 'attractiveness'), N, 'fit-recovery/dbn');
    const report = fit(simulated.log, 'dbn');
    const model = report.model as FittedDbn;
    const { examined, clicked } = countsFromTruth(simulated);
    // Complete-data SEs (had examination been observed): α from the examinations, σ from the clicks,
    // γ from the unsatisfied examinations; EM, which does not see examination, is allowed 2× those.
    let unsatisfied = 0;
    for (let d = 0; d < Q * D; d++) unsatisfied += examined[d] - clicked[d] * relevance[d];
    const seGamma = 2 * Math.sqrt((0.9 * 0.1) / unsatisfied);
    expect(Math.abs(model.gamma - 0.9)).toBeLessThan(Z * seGamma);
    const alpha = byDocument(report, model.attractiveness.value);
    const a = worst(
      alpha,
      relevance,
      Array.from(relevance, (r, d) => 2 * Math.sqrt((r * (1 - r)) / examined[d])),
    );
    const sigma = byDocument(report, model.satisfaction.value);
    const s = worst(
      sigma,
      relevance,
      Array.from(relevance, (r, d) => 2 * Math.sqrt((r * (1 - r)) / clicked[d])),
    );
    expect(a.z, `α of document ${a.at}: ${alpha[a.at]} vs ${relevance[a.at]}`).toBeLessThan(Z);
    expect(s.z, `σ of document ${s.at}: ${sigma[s.at]} vs ${relevance[s.at]}`).toBeLessThan(Z);
  });

  it('DCM: λ per rank and attractiveness per document', () => {
    const N = 100_000;
    const lambda = Float64Array.from({ length: D }, (_, k) => 0.7 - 0.04 * k);
    const simulated = simulate(new DependentClickModel(lambda), N, 'fit-recovery/dcm');
    const report = fit(simulated.log, 'dcm');
    const model = report.model as FittedDcm;
    const { examined } = countsFromTruth(simulated);
    const clicksAt = new Float64Array(D);
    for (let row = 0; row < simulated.log.click.length; row++) clicksAt[simulated.log.position[row]] += simulated.log.click[row];
    // Ranks with ≥ 1,000 clicks; complete-data SEs, EM allowed 2× them (see DBN).
    const ranks = Array.from({ length: D - 1 }, (_, k) => k).filter((k) => clicksAt[k] >= 1000);
    expect(ranks.length).toBeGreaterThanOrEqual(7);
    const l = worst(
      ranks.map((k) => model.lambda.value[k]),
      ranks.map((k) => lambda[k]),
      ranks.map((k) => 2 * Math.sqrt((lambda[k] * (1 - lambda[k])) / clicksAt[k])),
    );
    const alpha = byDocument(report, model.attractiveness.value);
    const a = worst(
      alpha,
      relevance,
      Array.from(relevance, (r, d) => 2 * Math.sqrt((r * (1 - r)) / examined[d])),
    );
    expect(l.z, `λ at rank ${ranks[l.at] + 1}`).toBeLessThan(Z);
    expect(a.z, `α of document ${a.at}: ${alpha[a.at]} vs ${relevance[a.at]}`).toBeLessThan(Z);
  });

  it('CCM: the three continuations and the attractiveness (simulated by the fitted CCM’s simulator, a CascadingModel)', () => {
    const N = 100_000;
    const tau = [0.9, 0.6, 0.3];
    const simulated = simulate(FittedCcm.restore(relevance, { tau }, D).simulator().clickModel, N, 'fit-recovery/ccm');
    const report = fit(simulated.log, 'ccm');
    const model = report.model as FittedCcm;
    const { examined, clicked } = countsFromTruth(simulated);
    // Complete-data SEs, EM allowed 2× them (see DBN): τ1 from the examined skips, τ2 and τ3 from
    // the expected non-relevant and relevant clicks, α from the examinations.
    let skips = 0;
    let relevantClicks = 0;
    for (let d = 0; d < Q * D; d++) {
      skips += examined[d] - clicked[d];
      relevantClicks += clicked[d] * relevance[d];
    }
    const counts = [skips, clicked.reduce((s, c) => s + c, 0) - relevantClicks, relevantClicks];
    const t = worst(
      model.tau.value,
      tau,
      tau.map((v, i) => 2 * Math.sqrt((v * (1 - v)) / counts[i])),
    );
    expect(t.z, `τ${t.at + 1}: ${model.tau.value[t.at]} vs ${tau[t.at]}`).toBeLessThan(Z);
    const alpha = byDocument(report, model.attractiveness.value);
    const a = worst(
      alpha,
      relevance,
      Array.from(relevance, (r, d) => 2 * Math.sqrt((r * (1 - r)) / examined[d])),
    );
    expect(a.z, `α of document ${a.at}: ${alpha[a.at]} vs ${relevance[a.at]}`).toBeLessThan(Z);
  });

  it('CM: the closed form is PyClick’s (1 + clicks) / (2 + examinations) and recovers the attractiveness', () => {
    const N = 100_000;
    const simulated = simulate(new CascadeModel(), N, 'fit-recovery/cm');
    const report = fit(simulated.log, 'cm');
    const { examined, clicked } = countsFromTruth(simulated);
    const alpha = byDocument(report, report.model.attractiveness.value);
    for (let d = 0; d < Q * D; d++) expect(alpha[d]).toBeCloseTo((1 + clicked[d]) / (2 + examined[d]), 12);
    const a = worst(
      alpha,
      relevance,
      Array.from(relevance, (r, d) => Math.sqrt((r * (1 - r)) / examined[d])),
    );
    expect(a.z, `α of document ${a.at}: ${alpha[a.at]} vs ${relevance[a.at]}`).toBeLessThan(Z);
  });
});
