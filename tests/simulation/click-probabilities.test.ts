import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { CLICK_MODEL_TYPES, createClickModel, type ClickModelSpec } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

/** A 6-result list with varied click-given-examination probabilities. */
const relevance = Float32Array.from([0.7, 0.2, 0.9, 0.05, 0.5, 0.3]);
const lists = { offsets: Int32Array.of(0, 6), documents: Int32Array.from({ length: 6 }, (_, i) => i) };
const N = 100_000;

const specs: ClickModelSpec[] = [
  ...CLICK_MODEL_TYPES.map((type) => ({ type }) as ClickModelSpec),
  { type: 'dcm', lambda: [0.9, 0.3] },
  { type: 'dbn', gamma: 0.7, satisfaction: 0.4 },
  { type: 'pbm', examination: 'inverse-rank', eta: 2 },
];

describe('exact click probabilities of every click model', () => {
  for (const spec of specs) {
    it(`${JSON.stringify(spec)}: match the simulated click rates per rank`, () => {
      const model = createClickModel(spec, 6);
      const exact = new Float64Array(6);
      model.clickProbabilities(relevance, 6, exact);
      const { log } = simulateSessions(lists, { numSessions: N, clickModel: model, relevance, rng: randomStream(JSON.stringify(spec)), truth: false });
      const rate = new Float64Array(6);
      for (let r = 0; r < log.click.length; r++) rate[log.position[r]] += log.click[r] / N;
      for (let k = 0; k < 6; k++) {
        const p = exact[k];
        expect(Math.abs(rate[k] - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / N) + 1e-12);
      }
    });
  }
});
