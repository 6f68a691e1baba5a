import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { EYE_TRACKING_PROFILE, examinationProbabilities } from '../../src/simulation/examination.js';
import { gradedRelevanceTable, relevanceProbabilities, relevanceTable } from '../../src/simulation/relevance.js';
import { simulateSessions, type DisplayedLists } from '../../src/simulation/sessions.js';

/** Four standard errors of a binomial proportion: a false alarm about once in 16,000 checks. */
const tolerance = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

describe('examination profiles and the relevance mapping', () => {
  it('gives v_k^η with the eye-tracking profile, reusing the last value past rank 10, and (1/k)^η', () => {
    const eta2 = examinationProbabilities({ profile: 'eye-tracking', eta: 2 }, 12);
    expect(eta2[0]).toBeCloseTo(0.68 ** 2, 12);
    expect(eta2[9]).toBeCloseTo(0.06 ** 2, 12);
    expect(eta2[11]).toBeCloseTo(0.06 ** 2, 12);
    expect(Array.from(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10))).toEqual([...EYE_TRACKING_PROFILE]);
    expect(examinationProbabilities({ profile: 'inverse-rank', eta: 1.5 }, 4)[3]).toBeCloseTo(0.25 ** 1.5, 12);
    expect(() => examinationProbabilities({ profile: 'eye-tracking', eta: -1 }, 3)).toThrow(/eta/);
  });

  it('gives (0.85^(k − 1))^η and the Baidu-ULTR curve b_k^η, reusing b_10 past rank 10', () => {
    const exponential = examinationProbabilities({ profile: 'exponential', eta: 2 }, 4);
    expect(exponential[0]).toBe(1);
    expect(exponential[3]).toBeCloseTo(0.85 ** 6, 12);
    const baidu = examinationProbabilities({ profile: 'baidu-ultr', eta: 1 }, 12);
    expect(Array.from(baidu.subarray(0, 10))).toEqual([1, 0.674, 0.414, 0.293, 0.208, 0.171, 0.136, 0.117, 0.084, 0.058]);
    expect(baidu[11]).toBe(0.058);
    expect(examinationProbabilities({ profile: 'baidu-ultr', eta: 0.5 }, 2)[1]).toBeCloseTo(Math.sqrt(0.674), 12);
  });

  it('maps grades with ε + (1 − ε)(2^y − 1)/(2^ymax − 1)', () => {
    expect(Array.from(gradedRelevanceTable({ epsilon: 0.1, maxGrade: 4 })).map((v) => +v.toFixed(4))).toEqual([0.1, 0.16, 0.28, 0.52, 1]);
    expect(Array.from(gradedRelevanceTable({ epsilon: 0.1, maxGrade: 2 })).map((v) => +v.toFixed(4))).toEqual([0.1, 0.4, 1]);
    // grades outside [0, ymax] are clamped
    expect(Array.from(relevanceProbabilities(Int32Array.from([-1, 5]), gradedRelevanceTable({ epsilon: 0, maxGrade: 2 })))).toEqual([0, 1]);
  });

  it('offers the binarised and 0.25·y mappings, with named errors', () => {
    expect(Array.from(relevanceTable({ mapping: 'binary', epsilon: 0.1, threshold: 2, maxGrade: 4 })).map((v) => +v.toFixed(4))).toEqual([0.1, 0.1, 1, 1, 1]);
    expect(Array.from(relevanceTable({ mapping: 'linear', scale: 0.25, maxGrade: 4 }))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(Array.from(relevanceTable({ mapping: 'graded', epsilon: 0.1, maxGrade: 2 })).map((v) => +v.toFixed(4))).toEqual([0.1, 0.4, 1]);
    expect(() => relevanceTable({ mapping: 'binary', epsilon: 0.1, threshold: 5, maxGrade: 4 })).toThrow(/relevance\.threshold: expected an integer in \[1, 4\], found 5/);
    expect(() => relevanceTable({ mapping: 'linear', scale: 0, maxGrade: 4 })).toThrow(/relevance\.scale/);
  });
});

describe('PBM sessions', () => {
  const grades = Int32Array.from([2, 0, 1, 2, 0, 1, 0, 2, 1, 0, 2, 0]);
  const relevance = relevanceProbabilities(grades, gradedRelevanceTable({ epsilon: 0.1, maxGrade: 2 }));
  // Two queries: one shows rows 0..9 in order, the other rows 11, 10 (a shorter list).
  const lists: DisplayedLists = { offsets: Int32Array.from([0, 10, 12]), documents: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 10]) };
  const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
  const N = 200_000;
  const { log, truth } = simulateSessions(lists, { numSessions: N, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(7) });

  it('clicks at each rank with probability κ_k · r_d', () => {
    const clicks = new Float64Array(12);
    const shown = new Float64Array(12);
    for (let r = 0; r < log.document.length; r++) {
      shown[log.document[r]]++;
      clicks[log.document[r]] += log.click[r];
    }
    for (let k = 0; k < 10; k++) {
      const p = examination[k] * relevance[k];
      expect(Math.abs(clicks[k] / shown[k] - p)).toBeLessThan(tolerance(p, shown[k]));
    }
    // the short list: row 11 at rank 1, row 10 at rank 2
    expect(Math.abs(clicks[11] / shown[11] - 0.68 * relevance[11])).toBeLessThan(tolerance(0.68 * relevance[11], shown[11]));
    expect(Math.abs(clicks[10] / shown[10] - 0.61 * relevance[10])).toBeLessThan(tolerance(0.61 * relevance[10], shown[10]));
  });

  it('draws queries uniformly, clicks only examined slots, and records the hidden truth', () => {
    let first = 0;
    for (let s = 0; s < N; s++) first += log.sessionQuery[s] === 0 ? 1 : 0;
    expect(Math.abs(first / N - 0.5)).toBeLessThan(tolerance(0.5, N));
    let violations = 0;
    for (let r = 0; r < log.click.length; r++) {
      if (log.click[r] && !truth.examined[r]) violations++;
      if (Math.abs(truth.examinationProbability[r] - examination[log.position[r]]) > 1e-6) violations++;
      if (truth.relevanceProbability[r] !== relevance[log.document[r]]) violations++;
    }
    expect(violations).toBe(0);
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const again = simulateSessions(lists, { numSessions: 1000, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(7) });
    const same = simulateSessions(lists, { numSessions: 1000, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(7) });
    const other = simulateSessions(lists, { numSessions: 1000, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(8) });
    expect(Buffer.from(again.log.click).equals(Buffer.from(same.log.click))).toBe(true);
    expect(Buffer.from(again.log.click).equals(Buffer.from(other.log.click))).toBe(false);
  });

  it('gives the same clicks without the hidden truth, in 7 bytes per result plus 8 per session', () => {
    const options = { numSessions: 5000, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(11), intervention: 'shuffle' as const };
    const full = simulateSessions(lists, options);
    const lean = simulateSessions(lists, { ...options, truth: false });
    expect(lean.truth).toBeUndefined();
    expect(Buffer.from(lean.log.click).equals(Buffer.from(full.log.click))).toBe(true);
    expect(Buffer.from(lean.log.document.buffer).equals(Buffer.from(full.log.document.buffer))).toBe(true);
    const { sessionQuery, sessionOffsets, document, position, click } = lean.log;
    const bytes = sessionQuery.byteLength + sessionOffsets.byteLength + document.byteLength + position.byteLength + click.byteLength;
    expect(bytes).toBe(7 * document.length + 8 * 5000 + 4);
    const { examinationProbability, relevanceProbability, examined } = full.truth;
    expect(examinationProbability.byteLength + relevanceProbability.byteLength + examined.byteLength).toBe(9 * document.length);
  });

  it('the shuffle intervention puts every document at every rank equally often', () => {
    const n = 100_000;
    const shuffled = simulateSessions(
      { offsets: Int32Array.from([0, 10]), documents: Int32Array.from({ length: 10 }, (_, i) => i) },
      {
        numSessions: n,
        clickModel: new PositionBasedModel(examination),
        relevance,
        rng: randomStream(3),
        intervention: 'shuffle',
      },
    );
    const atTop = new Float64Array(10);
    for (let s = 0; s < n; s++) atTop[shuffled.log.document[shuffled.log.sessionOffsets[s]]]++;
    for (let d = 0; d < 10; d++) expect(Math.abs(atTop[d] / n - 0.1)).toBeLessThan(tolerance(0.1, n));
  });
});
