import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickModel } from '../../src/simulation/click-model.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { examinationProbabilities } from '../../src/simulation/examination.js';
import { simulateSessions, type DisplayedLists, type SimulatedLog } from '../../src/simulation/sessions.js';

/** Four standard errors of a binomial proportion: a false alarm about once in 16,000 checks. */
const tolerance = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

// Lists of 10, none, 3, 12 (past the end of κ, which has 8 ranks), 1 and 7 results, over 40
// documents; relevance 0 and 1 exactly on some documents (the edges of the click test).
const lengths = [10, 0, 3, 12, 1, 7];
const offsets = Int32Array.from([0, ...lengths.map((_, q) => lengths.slice(0, q + 1).reduce((x, y) => x + y, 0))]);
const setup = randomStream('pbm-fast-path');
const lists: DisplayedLists = { offsets, documents: Int32Array.from({ length: offsets[offsets.length - 1] }, () => setup.int(40)) };
lists.documents[0] = 13; // r = 1 at rank 1
lists.documents[offsets[3]] = 9; // r = 0 at rank 1
const relevance = Float32Array.from({ length: 40 }, (_, d) => (d % 9 === 0 ? 0 : d % 13 === 0 ? 1 : setup.uniform()));
const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 8);
examination[0] = 1; // κ_1 = 1: with r = 1 a slot at rank 1 is always clicked

/** The same PBM, hidden behind a plain ClickModel so that simulateSessions takes its general path. */
function generalPath(model: PositionBasedModel): ClickModel {
  return {
    name: 'pbm (general path)',
    simulate: (r, start, length, rng, out) => model.simulate(r, start, length, rng, out),
    clickProbabilities: (r, length, out) => model.clickProbabilities(r, length, out),
  };
}

const columns = ({ log, truth }: SimulatedLog) => [...Object.values(log), ...Object.values(truth ?? {})].map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));

describe('the PBM fast path', () => {
  it('gives the general path’s log byte for byte, with and without truth and shuffle', () => {
    const pbm = new PositionBasedModel(examination);
    for (const intervention of ['none', 'shuffle'] as const) {
      for (const truth of [true, false]) {
        const options = { numSessions: 20_000, relevance, rng: randomStream(5), intervention, truth };
        const fast = columns(simulateSessions(lists, { ...options, clickModel: pbm }));
        const general = columns(simulateSessions(lists, { ...options, clickModel: generalPath(pbm) }));
        expect(fast.length, `${intervention}, truth ${truth}`).toBe(truth ? 8 : 5);
        fast.forEach((column, i) => {
          expect(column.equals(general[i]), `${intervention}, truth ${truth}: column ${i}`).toBe(true);
        });
      }
    }
  });

  it('clicks each (rank, document) with probability κ_k · r_d, always at κ r = 1 and never at r = 0', () => {
    const N = 200_000;
    const { log, truth } = simulateSessions(lists, { numSessions: N, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(9) });
    const last = examination.length - 1;
    const shown = new Map<number, number>();
    const clicked = new Map<number, number>();
    let examinedViolations = 0;
    for (let row = 0; row < log.click.length; row++) {
      const key = log.position[row] * 40 + log.document[row];
      shown.set(key, (shown.get(key) ?? 0) + 1);
      clicked.set(key, (clicked.get(key) ?? 0) + log.click[row]);
      if (log.click[row] && !truth.examined[row]) examinedViolations++;
    }
    expect(examinedViolations).toBe(0);
    let checked = 0;
    expect(clicked.get(13)).toBe(shown.get(13));
    expect(shown.get(13)).toBeGreaterThan(0);
    for (const [key, n] of shown) {
      const k = Math.floor(key / 40);
      const d = key % 40;
      const p = examination[Math.min(k, last)] * relevance[d];
      const rate = clicked.get(key)! / n;
      if (p === 0 || p === 1) expect(rate, `rank ${k}, document ${d}`).toBe(p);
      else if (n >= 1000) {
        expect(Math.abs(rate - p), `rank ${k}, document ${d}: ${rate} vs ${p} over ${n}`).toBeLessThan(tolerance(p, n));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe('positions', () => {
  it('number each session’s rows 0, 1, … whether the lists have one length or several', () => {
    // Lists of 10, 10, none and 10 (one length; the empty query is never drawn), and the lists above.
    const uniform: DisplayedLists = { offsets: Int32Array.from([0, 10, 20, 20, 30]), documents: Int32Array.from({ length: 30 }, (_, i) => i) };
    for (const [name, shown] of [
      ['one length', uniform],
      ['several lengths', lists],
    ] as const) {
      for (const clickModel of [new PositionBasedModel(examination), generalPath(new PositionBasedModel(examination))]) {
        const { log } = simulateSessions(shown, { numSessions: 3001, clickModel, relevance, rng: randomStream(3), truth: false });
        let wrong = 0;
        for (let s = 0; s < 3001; s++) {
          for (let row = log.sessionOffsets[s]; row < log.sessionOffsets[s + 1]; row++) if (log.position[row] !== row - log.sessionOffsets[s]) wrong++;
        }
        expect(wrong, `${name}, ${clickModel.name}`).toBe(0);
        expect(log.position.length).toBe(log.sessionOffsets[3001]);
      }
    }
  });
});

describe('reusing a log’s arrays', () => {
  it('writes the same log into the arrays of an old one, on the fast and the general path', () => {
    const pbm = new PositionBasedModel(examination);
    for (const clickModel of [pbm, generalPath(pbm)]) {
      for (const truth of [true, false]) {
        const options = { numSessions: 5000, clickModel, relevance, intervention: 'shuffle' as const, truth };
        // The old log is larger (more sessions), so every column fits in its buffer.
        const old = simulateSessions(lists, { ...options, numSessions: 6000, rng: randomStream(1) });
        const oldBuffers = [...Object.values(old.log), ...Object.values(old.truth ?? {})].map((c) => c.buffer);
        const fresh = simulateSessions(lists, { ...options, rng: randomStream(2) });
        const reused = simulateSessions(lists, { ...options, rng: randomStream(2), reuse: old });
        const reusedColumns = [...Object.values(reused.log), ...Object.values(reused.truth ?? {})];
        expect(
          reusedColumns.map((c) => c.buffer),
          `${clickModel.name}, truth ${truth}`,
        ).toEqual(oldBuffers);
        const freshColumns = columns(fresh);
        columns(reused).forEach((column, i) => {
          expect(column.equals(freshColumns[i]), `${clickModel.name}, truth ${truth}: column ${i}`).toBe(true);
        });
      }
    }
  });

  it('allocates a column whose old buffer is too small, and refuses columns that share a buffer', () => {
    const options = { clickModel: new PositionBasedModel(examination), relevance, truth: false };
    const small = simulateSessions(lists, { ...options, numSessions: 10, rng: randomStream(1) });
    const grown = simulateSessions(lists, { ...options, numSessions: 100, rng: randomStream(2), reuse: small });
    expect(grown.log.document.buffer).not.toBe(small.log.document.buffer);
    expect(Buffer.from(grown.log.click).equals(Buffer.from(simulateSessions(lists, { ...options, numSessions: 100, rng: randomStream(2) }).log.click))).toBe(true);
    const shared = new ArrayBuffer(1 << 16);
    const log = { ...small.log, click: new Uint8Array(shared, 0, 10), position: new Uint16Array(shared, 0, 10) };
    expect(() => simulateSessions(lists, { ...options, numSessions: 10, rng: randomStream(1), reuse: { log } })).toThrow(/share a buffer/);
  });
});

describe('RandomStream state and ranged shuffle', () => {
  it('steps the same from a copied state, and shuffles a range as it shuffles that subarray', () => {
    const rng = randomStream('state');
    rng.uniform();
    const copy = randomStream('other');
    copy.setState(rng.getState());
    expect(Array.from({ length: 5 }, () => copy.nextUint32())).toEqual(Array.from({ length: 5 }, () => rng.nextUint32()));
    expect(() => copy.setState(new Int32Array(3))).toThrow(/4 int32/);
    const values = Int32Array.from({ length: 12 }, (_, i) => i);
    const whole = values.slice(3, 10);
    randomStream(1).shuffle(values, 3, 7);
    randomStream(1).shuffle(whole);
    expect(Array.from(values)).toEqual([0, 1, 2, ...whole, 10, 11]);
  });
});
