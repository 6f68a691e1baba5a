import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { readClickLog } from '../../src/data/click-log-io.js';
import { type ClickModelSpec, createClickModel } from '../../src/simulation/click-models/index.js';
import { resolveZipfWorld, simulateZipfSessions, zipfAttractiveness } from '../../src/simulation/search-log/zipf-world.js';

const cutoff = 10;
const pbm = createClickModel({ type: 'pbm' } as ClickModelSpec, cutoff, 'click-model');

describe('the zipf search world', () => {
  it('draws queries by the power law, shows rotations of each query’s documents, and is the same for the same seed', () => {
    for (const exponent of [1, 1.5]) {
      const world = resolveZipfWorld({ queries: 1000, exponent }, cutoff, '--zipf');
      const n = 200_000;
      const a = simulateZipfSessions(world, pbm, cutoff, n, randomStream('z'));
      const b = simulateZipfSessions(world, pbm, cutoff, n, randomStream('z'));
      expect(Buffer.from(a.log.click.buffer).equals(Buffer.from(b.log.click.buffer))).toBe(true);
      const counts = new Float64Array(world.queries);
      for (const q of a.log.sessionQuery) counts[q]++;
      // P(q) = ((q + 1)^(1−s) − (q + 2)^(1−s)) / ((Q + 1)^(1−s) − 1), or ln((q + 2) / (q + 1)) / ln(Q + 1) for s = 1.
      const p = (q: number) =>
        exponent === 1 ? Math.log((q + 2) / (q + 1)) / Math.log(world.queries + 1) : ((q + 1) ** (1 - exponent) - (q + 2) ** (1 - exponent)) / (1 - (world.queries + 1) ** (1 - exponent));
      for (const q of [0, 1, 9, 99]) expect(counts[q] / n).toBeCloseTo(p(q), 2);
      for (let s = 0; s < 50; s++) {
        const q = a.log.sessionQuery[s];
        const docs = Array.from(a.log.document.subarray(s * cutoff, (s + 1) * cutoff), (d) => d - q * world.candidates);
        const r = docs[0];
        expect(r).toBeLessThan(world.rankings);
        expect(docs).toEqual(Array.from({ length: cutoff }, (_, k) => (k + r) % world.candidates));
        expect(a.truth.relevanceProbability[s * cutoff + 3]).toBeCloseTo(zipfAttractiveness(world, q, docs[3]), 6);
      }
      expect(a.propensity[0]).toBeCloseTo(1 / 3, 6);
    }
  });

  it('clicklab simulate --world zipf writes partitions of one world: the same pairs have the same attractiveness in each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clicklab-zipf-'));
    const zipf = JSON.stringify({ queries: 500, exponent: 1.2, seed: 7 });
    const parts = [0, 1].map((seed) => {
      const out = join(dir, `part-${seed}.parquet`);
      execFileSync(process.execPath, [resolve('dist/cli/main.js'), 'simulate', '--world', 'zipf', '--zipf', zipf, '--sessions', '2000', '--seed', String(seed), '--out', out, '--truth', '--quiet']);
      return out;
    });
    const [a, b] = await Promise.all(parts.map((file) => readClickLog(file, { truth: true })));
    expect(a.log.sessionQuery.length).toBe(2000);
    expect(Array.from(a.log.click)).not.toEqual(Array.from(b.log.click));
    const world = resolveZipfWorld({ queries: 500, exponent: 1.2, seed: 7 }, cutoff, '--zipf');
    for (const { log, truth } of [a, b]) {
      for (let s = 0; s < 200; s++) {
        const q = log.sessionQuery[s];
        for (let row = log.sessionOffsets[s]; row < log.sessionOffsets[s + 1]; row++)
          expect(truth!.relevanceProbability[row]).toBeCloseTo(zipfAttractiveness(world, q, log.document[row] - q * world.candidates), 6);
      }
    }
    expect(() => execFileSync(process.execPath, [resolve('dist/cli/main.js'), 'simulate', '--world', 'zipf', '--zipf', '{"queries": -1}', '--out', join(dir, 'x.parquet')], { stdio: 'pipe' })).toThrow(
      /--zipf: "queries": expected an integer ≥ 1, found -1/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('names a bad spec', () => {
    expect(() => resolveZipfWorld({ queries: 0 }, cutoff, '--zipf')).toThrow('"queries": expected an integer ≥ 1, found 0');
    expect(() => resolveZipfWorld({ queries: 3e8 }, cutoff, '--zipf')).toThrow('expected queries × candidates ≤ 2^31 − 1');
    expect(() => resolveZipfWorld({ qeuries: 3 } as never, cutoff, '--zipf')).toThrow('unknown field "qeuries"');
  });
});
