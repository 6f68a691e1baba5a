import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { initBackend } from '../../src/learning/backend.js';
import type { ImplicitFeedback } from '../../src/learning/implicit/feedback.js';
import { tinyFeedback } from '../helpers/synthetic.js';
import { flipRecovery, nbpoObjective, nbpoSurrogateGradient, trainNbpo, type NbpoLearner } from '../../src/learning/implicit/nbpo.js';

await initBackend('wasm');

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Value and autodiff gradient of the objective for one observed pair (R, γ) and one unobserved pair (R', γ'). */
function autodiff(learner: NbpoLearner, pos: [number, number], neg: [number, number]): { value: number; grad: number[] } {
  return tf.tidy(() => {
    const [rPos, gPos, rNeg, gNeg] = [pos[0], pos[1], neg[0], neg[1]].map((x) => tf.tensor1d([x]));
    if (learner === 'bpo') {
      // BPO never reads γ: differentiate in R only.
      const f = (r: tf.Tensor, r2: tf.Tensor) => nbpoObjective(learner, r as tf.Tensor1D, gPos, r2 as tf.Tensor1D, gNeg);
      const { value, grads } = tf.valueAndGrads(f as (...a: tf.Tensor[]) => tf.Scalar)([rPos, rNeg]);
      return { value: value.dataSync()[0], grad: [grads[0].dataSync()[0], 0, grads[1].dataSync()[0], 0] };
    }
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => nbpoObjective(learner, a as tf.Tensor1D, b as tf.Tensor1D, c as tf.Tensor1D, d as tf.Tensor1D);
    const { value, grads } = tf.valueAndGrads(f as (...a: tf.Tensor[]) => tf.Scalar)([rPos, gPos, rNeg, gNeg]);
    return { value: value.dataSync()[0], grad: grads.map((g) => g.dataSync()[0]) };
  });
}

// (R, γ) points: σ(R), σ(γ) ∈ {0.5, 0.75, 0.25, 0.9, ...}.
const L3 = Math.log(3);
const POINTS: [number, number][] = [
  [0, 0],
  [L3, -L3],
  [-L3, L3],
  [2.2, -6.25],
  [-1.3, 0.4],
];

describe('NBPO surrogate gradient (Yu & Qin 2020)', () => {
  it('hand-computed per-pair values at (R, γ) = (0, 0) and (ln 3, −ln 3)', () => {
    // σ = ½ everywhere: observed ∂R = ¼, ∂γ = −¼; unobserved ∂R = ¼ − ½, ∂γ = ¼.
    expect(nbpoSurrogateGradient(0, 0, true)).toEqual({ dR: 0.25, dGamma: -0.25 });
    expect(nbpoSurrogateGradient(0, 0, false)).toEqual({ dR: -0.25, dGamma: 0.25 });
    // σ(R) = ¾, σ(γ) = ρ = ¼: observed ∂R = ¾·¼, ∂γ = −¼·¾; unobserved ∂R = ¼·¼ − ¾, ∂γ = ¾·¾.
    const a = nbpoSurrogateGradient(L3, -L3, true);
    const b = nbpoSurrogateGradient(L3, -L3, false);
    expect([a.dR, a.dGamma, b.dR, b.dGamma].map((x) => Number(x.toFixed(12)))).toEqual([0.1875, -0.1875, -0.6875, 0.5625]);
  });

  it("the surrogate objective's autodiff gradient equals the per-pair formulas (float32: 1e-6)", () => {
    for (const pos of POINTS) {
      for (const neg of POINTS) {
        const { grad } = autodiff('nbpo', pos, neg);
        const p = nbpoSurrogateGradient(pos[0], pos[1], true);
        const n = nbpoSurrogateGradient(neg[0], neg[1], false);
        [p.dR, p.dGamma, n.dR, n.dGamma].forEach((expected, k) => {
          expect(Math.abs(grad[k] - expected)).toBeLessThan(1e-6);
        });
      }
    }
  });

  it('central finite differences of the surrogate (ρ, 1 − ρ, σ(R) frozen at the point) give the same gradient (float64, h = 1e-5: error < 1e-8)', () => {
    // Observed: (1 − ρ₀) log σ(R) + σ(R₀) log(1 − ρ); unobserved: ρ₀ log σ(R) + log σ(−R) + σ(R₀) log ρ.
    const h = 1e-5;
    const logSig = (x: number) => -Math.log1p(Math.exp(-x));
    for (const [R0, g0] of POINTS) {
      const rho0 = sig(g0);
      const sR0 = sig(R0);
      const fPos = (R: number, g: number) => (1 - rho0) * logSig(R) + sR0 * logSig(-g);
      const fNeg = (R: number, g: number) => rho0 * logSig(R) + logSig(-R) + sR0 * logSig(g);
      for (const [f, observed] of [
        [fPos, true],
        [fNeg, false],
      ] as const) {
        const dR = (f(R0 + h, g0) - f(R0 - h, g0)) / (2 * h);
        const dG = (f(R0, g0 + h) - f(R0, g0 - h)) / (2 * h);
        const formula = nbpoSurrogateGradient(R0, g0, observed);
        expect(Math.abs(dR - formula.dR)).toBeLessThan(1e-8);
        expect(Math.abs(dG - formula.dGamma)).toBeLessThan(1e-8);
      }
    }
  });

  it('the surrogate differs from the true likelihood gradient of NBPOo (it is a different learner)', () => {
    const { grad } = autodiff('nbpoo', [0, 0], [0, 0]);
    // True: observed ∂R log σ(R) = σ(−R) = ½ (surrogate ¼); unobserved ∂R log(σ(−R) + σ(R)ρ) = ((ρ − 1)σ(R)σ(−R)) / P(ỹ=0) = −⅛/¾.
    expect(grad[0]).toBeCloseTo(0.5, 6);
    expect(grad[2]).toBeCloseTo(-1 / 6, 6);
  });
});

describe('NBPOo and BPO objectives', () => {
  it('NBPOo: log σ(R)(1 − ρ) + log(σ(−R) + σ(R)ρ), value and gradient against finite differences', () => {
    const f = (pos: [number, number], neg: [number, number]) => Math.log(sig(pos[0]) * (1 - sig(pos[1]))) + Math.log(sig(-neg[0]) + sig(neg[0]) * sig(neg[1]));
    const h = 1e-5;
    for (const pos of POINTS) {
      for (const neg of POINTS) {
        const { value, grad } = autodiff('nbpoo', pos, neg);
        expect(Math.abs(value - f(pos, neg))).toBeLessThan(1e-5 * Math.max(1, Math.abs(f(pos, neg))));
        const x = [...pos, ...neg];
        for (let k = 0; k < 4; k++) {
          const up = [...x];
          const down = [...x];
          up[k] += h;
          down[k] -= h;
          const fd = (f([up[0], up[1]], [up[2], up[3]]) - f([down[0], down[1]], [down[2], down[3]])) / (2 * h);
          expect(Math.abs(grad[k] - fd)).toBeLessThan(1e-5);
        }
      }
    }
  });

  it('NBPOo stays finite at extreme logits (R = ±40, γ = ±40)', () => {
    for (const R of [-40, 40]) for (const g of [-40, 40]) expect(Number.isFinite(autodiff('nbpoo', [R, g], [R, g]).value)).toBe(true);
  });

  it('BPO: log σ(R) + log σ(−R′); ∂R = σ(−R), ∂R′ = −σ(R′)', () => {
    const { value, grad } = autodiff('bpo', [L3, 1], [-L3, 2]);
    expect(value).toBeCloseTo(2 * Math.log(0.75), 6);
    expect(grad[0]).toBeCloseTo(0.25, 6);
    expect(grad[2]).toBeCloseTo(-0.25, 6);
  });
});

describe('training NBPO, NBPOo and BPO', () => {
  it('tf.memory().numTensors does not grow with the number of epochs (four variables survive; two for BPO)', () => {
    const feedback = tinyFeedback();
    for (const learner of ['nbpo', 'nbpoo', 'bpo'] as const) {
      const counts: number[] = [];
      for (const maxEpochs of [1, 6]) {
        const before = tf.memory().numTensors;
        const { model, flip } = trainNbpo(feedback, { learner, maxEpochs, batchSize: 16, dimension: 4, flipDimension: 3, validate: () => 0, rng: randomStream(3) });
        counts.push(tf.memory().numTensors - before);
        model.dispose();
        flip?.dispose();
        expect(tf.memory().numTensors).toBe(before);
      }
      expect(counts).toEqual(learner === 'bpo' ? [2, 2] : [4, 4]);
    }
  });

  it('initialisation: ρ = σ(p·q) starts small (γ ≈ −25/4 on average) and U, V ≥ 0', () => {
    const { model, flip } = trainNbpo(tinyFeedback(), { learner: 'nbpo', maxEpochs: 1, learningRate: 1e-9, dimension: 8, flipDimension: 50, rng: randomStream(4) });
    const gamma = flip!.factors();
    let mean = 0;
    for (let u = 0; u < 30; u++) for (let i = 0; i < 20; i++) mean += gamma.score(u, i) / 600;
    // E γ = −25 · K₁ · E[ab]/K₁ = −6.25; per pair sd ≈ 25·√(K₁·(1/9 − 1/16))/K₁ ≈ 0.78; the mean of 600 correlated pairs is within 0.5.
    expect(Math.abs(mean + 6.25)).toBeLessThan(0.5);
    expect(Math.min(...model.snapshot()[0])).toBeGreaterThanOrEqual(0);
    model.dispose();
    flip!.dispose();
  });

  it('each learner ranks the observed pairs above the unobserved ones after training; the same seed gives the same weights', () => {
    const feedback = tinyFeedback();
    const set = new Set(Array.from(feedback.user, (u, j) => u * 20 + feedback.item[j]));
    for (const learner of ['nbpo', 'nbpoo', 'bpo'] as const) {
      const run = () => trainNbpo(feedback, { learner, maxEpochs: 60, batchSize: 30, dimension: 8, flipDimension: 4, learningRate: 0.05, l2: 0.01, flipL2: 0.05, rng: randomStream(1) });
      const { model, flip } = run();
      const f = model.factors();
      let clicked = 0;
      let other = 0;
      for (let u = 0; u < 30; u++) for (let i = 0; i < 20; i++) set.has(u * 20 + i) ? (clicked += f.score(u, i) / 90) : (other += f.score(u, i) / 510);
      expect(clicked, learner).toBeGreaterThan(other + 1);
      const again = run();
      expect(again.model.snapshot()).toEqual(model.snapshot());
      for (const m of [model, flip, again.model, again.flip]) m?.dispose();
    }
  });

  it('flipRecovery: correlation, RMSE and means of σ(γ) against a true flip', () => {
    const scores = { score: (u: number, i: number) => (u === 0 ? 0 : i === 0 ? L3 : -L3) } as unknown as Parameters<typeof flipRecovery>[0];
    // learned ρ = ½, ¾, ¼ against true 0.5, 0.75, 0.25 + 0.1
    const pairs = { user: Int32Array.from([0, 1, 1]), item: Int32Array.from([5, 0, 1]) };
    const r = flipRecovery(scores, pairs, (u, i) => (u === 0 ? 0.5 : i === 0 ? 0.75 : 0.35));
    expect(r.meanLearned).toBeCloseTo(0.5, 12);
    expect(r.meanTrue).toBeCloseTo(1.6 / 3, 12);
    expect(r.rmse).toBeCloseTo(Math.sqrt(0.01 / 3), 12);
    expect(r.correlation).toBeGreaterThan(0.98);
  });
});

describe("one training step is the authors' update", () => {
  it("U += η·0.99·(dU − λ_r U) etc., the observed pair's term added once per negative (float32: 1e-5)", () => {
    // 2 users × 3 items: user 0 observed 0, 1 (its negative is always 2); user 1 observed 1, 2 (always 0).
    const feedback: ImplicitFeedback = { numUsers: 2, numItems: 3, user: Int32Array.from([0, 0, 1, 1]), item: Int32Array.from([0, 1, 1, 2]) };
    const [K, K1, eta, lr, lp, S] = [3, 2, 0.05, 1, 5, 4];
    for (const learner of ['nbpo', 'nbpoo', 'bpo'] as const) {
      const { model, flip } = trainNbpo(feedback, { learner, dimension: K, flipDimension: K1, maxEpochs: 1, rng: randomStream(7) });
      const init = randomStream(7).derive('init');
      const draw = (rows: number, dim: number, scale: number, name: string) => {
        const s = init.derive(name);
        return Array.from({ length: rows }, () => Array.from({ length: dim }, () => Math.fround((scale * s.uniform()) / Math.sqrt(dim))));
      };
      const [U, V, P, Q] = [draw(2, K, 1, 'U'), draw(3, K, 1, 'V'), draw(2, K1, 5, 'P'), draw(3, K1, -5, 'Q')];
      const dot = (a: number[], b: number[]) => a.reduce((t, x, k) => t + x * b[k], 0);
      const dU = U.map((r) => r.map(() => 0));
      const dV = V.map((r) => r.map(() => 0));
      const dP = P.map((r) => r.map(() => 0));
      const dQ = Q.map((r) => r.map(() => 0));
      const add = (dA: number[][], a: number, B: number[][], b: number, D: number) => {
        for (let k = 0; k < dA[a].length; k++) dA[a][k] += D * B[b][k];
      };
      for (let r = 0; r < 4; r++) {
        const [u, i] = [feedback.user[r], feedback.item[r]];
        const j = u === 0 ? 2 : 0;
        for (let s = 0; s < S; s++) {
          const [Ri, gi, Rj, gj] = [dot(U[u], V[i]), dot(P[u], Q[i]), dot(U[u], V[j]), dot(P[u], Q[j])];
          let [aR, aG, bR, bG] = [sig(-Ri), 0, -sig(Rj), 0];
          if (learner === 'nbpo') {
            ({ dR: aR, dGamma: aG } = nbpoSurrogateGradient(Ri, gi, true));
            ({ dR: bR, dGamma: bG } = nbpoSurrogateGradient(Rj, gj, false));
          } else if (learner === 'nbpoo') {
            // _NBPOo.py's exact gradient (without its +1e-10 in the denominator).
            const p0 = sig(-Rj) + sig(gj) * sig(Rj);
            [aR, aG, bR, bG] = [sig(-Ri), -sig(gi), ((sig(gj) - 1) * sig(Rj) * sig(-Rj)) / p0, (sig(gj) * sig(-gj) * sig(Rj)) / p0];
          }
          add(dU, u, V, i, aR);
          add(dV, i, U, u, aR);
          add(dP, u, Q, i, aG);
          add(dQ, i, P, u, aG);
          add(dU, u, V, j, bR);
          add(dV, j, U, u, bR);
          add(dP, u, Q, j, bG);
          add(dQ, j, P, u, bG);
        }
      }
      const step = (A: number[][], dA: number[][], lambda: number) => A.flatMap((row, a) => row.map((x, k) => x + eta * 0.99 * (dA[a][k] - lambda * x)));
      const [users, items] = model.snapshot();
      step(U, dU, lr).forEach((x, k) => {
        expect(Math.abs(users[k] - x), `${learner} U[${k}]`).toBeLessThan(1e-5);
      });
      step(V, dV, lr).forEach((x, k) => {
        expect(Math.abs(items[k] - x), `${learner} V[${k}]`).toBeLessThan(1e-5);
      });
      if (flip) {
        const [pu, qi] = flip.snapshot();
        step(P, dP, lp).forEach((x, k) => {
          expect(Math.abs(pu[k] - x), `${learner} P[${k}]`).toBeLessThan(1e-5);
        });
        step(Q, dQ, lp).forEach((x, k) => {
          expect(Math.abs(qi[k] - x), `${learner} Q[${k}]`).toBeLessThan(1e-5);
        });
      }
      model.dispose();
      flip?.dispose();
    }
  });
});
