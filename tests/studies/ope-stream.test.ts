import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { loadOpenBanditPriors, openBanditPath, readOpenBanditLog } from '../../src/data/open-bandit.js';
import { allSlateEstimators } from '../../src/evaluation/registry.js';
import { estimateOnOpenBanditLog, policyActionDistribution, repeatActionDistribution } from '../../src/studies/ope/open-bandit-protocol.js';
import { openBanditSlateInputs } from '../../src/studies/ope/open-bandit-slates.js';
import { estimateOnOpenBanditStream } from '../../src/studies/ope/streamed-log.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-ope-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const menRandom = openBanditPath('random/men/men.csv.gz');

/**
 * The first `rows` rows of the shipped men sample, with timestamps rewritten so that runs of 1–3
 * consecutive rows at distinct positions share one (slates of the log), as a plain CSV.
 */
function slateLog(name: string, rows: number, seed: number): string {
  const lines = gunzipSync(readFileSync(menRandom)).toString('utf8').split('\n');
  const rng = randomStream(seed);
  const out = [lines[0]];
  let slate = 0;
  let left = 0;
  let used = new Set<string>();
  for (let i = 1; i <= rows; i++) {
    const fields = lines[i].split(',');
    if (left === 0 || used.has(fields[3])) {
      slate++;
      left = 1 + rng.int(3);
      used = new Set();
    }
    used.add(fields[3]);
    left--;
    fields[1] = `2019-11-24 00:00:${String(slate % 60).padStart(2, '0')}.${String(slate).padStart(6, '0')}+00:00`;
    out.push(fields.join(','));
  }
  const file = join(dir, name);
  writeFileSync(file, `${out.join('\n')}\n`);
  return file;
}

async function btsTable(numItems: number): Promise<Float64Array> {
  const priors = await loadOpenBanditPriors('men');
  return policyActionDistribution({ numItems, numPositions: 3 }, { ...priors, field: 'prior', source: 'test' }, 20_000, 1);
}

describe('streamed DM and DR family (reward model fitted over the stream)', () => {
  it('equal the in-memory estimates on the shipped men sample, for every standard estimator, with the same weight diagnostics', async () => {
    const log = await readOpenBanditLog(menRandom);
    const perItem = await btsTable(log.numItems);
    const memory = estimateOnOpenBanditLog(log, perItem, { resamples: 20, seed: 4, folds: 3 });
    const streamed = await estimateOnOpenBanditStream([menRandom], { perItemPosition: () => perItem }, { resamples: 20, seed: 4, folds: 3, batchRows: 777 });
    expect(streamed.table.map((r) => r.estimator)).toEqual(memory.map((r) => r.estimator));
    expect(streamed.table.map((r) => r.estimator)).toEqual(['ipw', 'ipw (λ=10)', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr (λ=10)', 'dr-os (λ=10)']);
    memory.forEach((expected, e) => {
      const row = streamed.table[e];
      expect(Math.abs(row.estimate - expected.estimate)).toBeLessThanOrEqual(1e-9 * Math.abs(expected.estimate));
      if (expected.weights === null) expect(row.weights).toBeNull();
      else {
        expect(row.weights!.maxWeight).toBe(expected.weights.maxWeight);
        expect(row.weights!.effectiveSampleSize).toBeCloseTo(expected.weights.effectiveSampleSize, 6);
      }
    });
    // 1 pass for the codes, one per Newton step of the slowest fold's model, 1 for the estimates.
    expect(streamed.rewardModelIterations).toHaveLength(3);
    expect(streamed.passes).toBe(2 + Math.max(...streamed.rewardModelIterations));
    // DM is the reward model under π_e: a CTR, near the logged one.
    expect(streamed.table[3].estimate).toBeGreaterThan(0.001);
    expect(streamed.table[3].estimate).toBeLessThan(0.02);
  });

  it('do not depend on the batch size: byte-identical results (DR family and slates) for 500 and 100,000 rows per batch, over two files', async () => {
    const a = slateLog('a.csv', 1500, 1);
    const b = slateLog('b.csv', 1200, 2);
    const run = async (batchRows: number) =>
      JSON.stringify(await estimateOnOpenBanditStream([a, b], { perItemPosition: (A) => new Float64Array(A * 3).fill(1 / A) }, { resamples: 100, batchRows, seed: 5, slates: true }));
    const small = await run(500);
    expect(small).toBe(await run(100_000));
    expect(JSON.parse(small).rows).toBe(2700);
  });
});

describe('streamed slate estimators', () => {
  it('equal the in-memory slate estimators on a log whose slates straddle batches, with the same weight diagnostics', async () => {
    const file = slateLog('slates.csv', 3000, 3);
    const log = await readOpenBanditLog(file);
    const perItem = await btsTable(log.numItems);
    const pi = repeatActionDistribution(perItem, log.reward.length, log.numItems, 3).values;
    const { inputs, slates } = openBanditSlateInputs(log, pi, log.numItems, 3);
    expect(slates).toBeLessThan(2000);
    const streamed = await estimateOnOpenBanditStream([file], { perItemPosition: () => perItem }, { resamples: 20, batchRows: 97, slates: true, rewardModel: false });
    expect(streamed.slates).toBe(slates);
    const estimators = allSlateEstimators();
    const rows = streamed.table.slice(3);
    expect(rows.map((r) => r.estimator)).toEqual(estimators.map((e) => e.name));
    estimators.forEach((estimator, e) => {
      const expected = estimator.estimate(inputs);
      expect(Math.abs(rows[e].estimate - expected)).toBeLessThanOrEqual(1e-12 * Math.abs(expected));
      const diagnostics = estimator.weightDiagnostics(inputs)!;
      expect(rows[e].weights!.units).toBe(slates);
      expect(rows[e].weights!.maxWeightUnit).toBe(diagnostics.maxWeightUnit);
      expect(rows[e].weights!.effectiveSampleSize).toBeCloseTo(diagnostics.effectiveSampleSize, 6);
    });
    // The item-position weights are IPW's: IIPS is IPW's sum over rows, per slate instead of per row.
    expect(Math.abs(rows[1].estimate - (streamed.table[0].estimate * 3000) / slates)).toBeLessThan(1e-12);
  });

  it('on the shipped sample (almost every row its own timestamp: 9,989 slates of 10,000 rows), IIPS is IPW per slate', async () => {
    const streamed = await estimateOnOpenBanditStream([menRandom], { perItemPosition: (A) => new Float64Array(A * 3).fill(1 / A) }, { resamples: 20, slates: true, rewardModel: false });
    expect(streamed.slates).toBe(9989);
    expect(Math.abs(streamed.table[4].estimate - (streamed.table[0].estimate * 10_000) / 9989)).toBeLessThan(1e-12);
  });
});

describe('a streamed Parquet action distribution (long layout, read a batch of rounds at a time)', () => {
  const A = 34;
  const K = 3;
  /** The long layout of `pi` (rounds × A × K) for `rounds` rounds, sorted by round, in row groups of `groupRows`. */
  function longParquet(name: string, pi: (round: number, a: number, k: number) => number, rounds: number, groupRows: number): string {
    const round: number[] = [];
    const action: number[] = [];
    const position: number[] = [];
    const prob: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (let a = 0; a < A; a++) {
        for (let k = 0; k < K; k++) {
          round.push(i);
          action.push(a);
          position.push(k);
          prob.push(pi(i, a, k));
        }
      }
    }
    const file = join(dir, name);
    writeFileSync(
      file,
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'round', data: Int32Array.from(round), type: 'INT32' },
            { name: 'action', data: Int32Array.from(action), type: 'INT32' },
            { name: 'position', data: Int32Array.from(position), type: 'INT32' },
            { name: 'prob', data: Float64Array.from(prob), type: 'DOUBLE' },
          ],
          rowGroupSize: groupRows,
        }),
      ),
    );
    return file;
  }

  it('gives the estimates of the same π_e given per item (all eight estimators), and refuses a bad round in one line', async () => {
    const log = slateLog('pq.csv', 1000, 4);
    const table = Float64Array.from({ length: A * K }, (_, j) => (Math.floor(j / K) % 2 === 0 ? 1.5 : 0.5) / A);
    const file = longParquet('pi.parquet', (_, a, k) => table[a * K + k], 1000, 7000);
    const options = { resamples: 30, batchRows: 111 };
    const fromFile = await estimateOnOpenBanditStream([log], { file }, options);
    const given = await estimateOnOpenBanditStream([log], { perItemPosition: () => table }, options);
    expect(fromFile).toEqual(given);
    const bad = longParquet('bad.parquet', (i, a, k) => (i === 613 && k === 1 && a === 0 ? table[a * K + k] + 0.01 : table[a * K + k]), 1000, 5000);
    await expect(estimateOnOpenBanditStream([log], { file: bad }, options)).rejects.toThrow(
      /bad\.parquet: expected the probabilities over the 34 actions to sum to 1 .* at round 613, position 1 \(0-based\)$/,
    );
    const short = longParquet('short.parquet', (_, a, k) => table[a * K + k], 900, 5000);
    await expect(estimateOnOpenBanditStream([log], { file: short }, options)).rejects.toThrow(/short\.parquet: expected .*sum to 1 .* found 0 at round 900, position 0/);
    const long = longParquet('long.parquet', (_, a, k) => table[a * K + k], 1001, 5000);
    await expect(estimateOnOpenBanditStream([log], { file: long }, options)).rejects.toThrow(
      /long\.parquet: expected an integer round in \[0, 999\] \(one per row of the log\), found 1000 in row 102001/,
    );
  });
});
