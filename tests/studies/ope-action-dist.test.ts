import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { npyFloat64Bytes, readActionDistribution } from '../../src/data/action-dist.js';
import { parseNpyHeader } from '../../src/data/npz.js';
import { loadOpenBanditPriors, loadOpenBanditSample } from '../../src/data/open-bandit.js';
import { estimateOnOpenBanditLog, policyActionDistribution, runOpenBanditProtocol } from '../../src/studies/ope/open-bandit-protocol.js';
import { npyBytes } from '../helpers/npz-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-action-dist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = resolve('dist/cli/main.js');
const randomMen = resolve('datasets/open-bandit/random/men/men.csv.gz');
const btsMen = resolve('datasets/open-bandit/bts/men/men.csv.gz');

/** OBP's action_dist: the same items × K table in every one of `rows` rounds, rows × items × K. */
function perRound(table: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows * table.length);
  for (let i = 0; i < rows; i++) out.set(table, i * table.length);
  return out;
}

const options = { resamples: 100, seed: 2 };

describe('an action distribution from a file (OBP layout: round × action × position)', () => {
  it('a .npy written here (float64 and float32) gives the same estimates as the built-in uniform and BTS distributions', async () => {
    const { log } = await loadOpenBanditSample('random', 'men');
    const shape = { rounds: log.reward.length, actions: log.numItems, positions: log.numPositions };
    const dims = [shape.rounds, shape.actions, shape.positions];
    const uniform = policyActionDistribution(log, 'uniform', 0, 1);
    const priors = await loadOpenBanditPriors('men');
    const bts = policyActionDistribution(log, { ...priors, field: 'priors', source: 'men' }, 20_000, 5);
    for (const [name, table] of [
      ['uniform', uniform],
      ['bts', bts],
    ] as const) {
      const file = join(dir, `${name}.npy`);
      writeFileSync(file, npyBytes({ descr: '<f8', shape: dims, data: perRound(table, shape.rounds) }));
      const read = await readActionDistribution(file, shape);
      expect(read).toEqual(perRound(table, shape.rounds));
      expect(estimateOnOpenBanditLog(log, read, options)).toEqual(estimateOnOpenBanditLog(log, table, options));
    }
    // float32 is widened; the uniform table's estimates agree to float32's precision.
    const file32 = join(dir, 'uniform32.npy');
    writeFileSync(file32, npyBytes({ descr: '<f4', shape: dims, data: Float32Array.from(perRound(uniform, shape.rounds)) }));
    const est32 = estimateOnOpenBanditLog(log, await readActionDistribution(file32, shape), options);
    const est64 = estimateOnOpenBanditLog(log, uniform, options);
    for (let j = 0; j < est64.length; j++) expect(est32[j].estimate).toBeCloseTo(est64[j].estimate, 8);
  });

  it('reads the long Parquet layout (round, action, position, prob; absent triples are 0) and refuses a triple twice', async () => {
    const shape = { rounds: 2, actions: 3, positions: 2 };
    // Round 0: action 1 at both positions; round 1: uniform over actions at position 0, action 2 at position 1.
    const rows = [
      [0, 1, 0, 1],
      [0, 1, 1, 1],
      [1, 0, 0, 0.25],
      [1, 1, 0, 0.25],
      [1, 2, 0, 0.5],
      [1, 2, 1, 1],
    ];
    const write = (name: string, data: number[][]) => {
      const file = join(dir, name);
      writeFileSync(
        file,
        new Uint8Array(
          parquetWriteBuffer({
            columnData: [
              { name: 'round', data: Int32Array.from(data.map((r) => r[0])), type: 'INT32' },
              { name: 'action', data: Int32Array.from(data.map((r) => r[1])), type: 'INT32' },
              { name: 'position', data: Int32Array.from(data.map((r) => r[2])), type: 'INT32' },
              { name: 'prob', data: Float64Array.from(data.map((r) => r[3])), type: 'DOUBLE' },
            ],
          }),
        ),
      );
      return file;
    };
    const values = await readActionDistribution(write('long.parquet', rows), shape);
    expect([...values]).toEqual([0, 0, 1, 1, 0, 0, 0.25, 0, 0.25, 0, 0.5, 1]);
    await expect(readActionDistribution(write('twice.parquet', [...rows, rows[0]]), shape)).rejects.toThrow(/found \(0, 1, 0\) again in row 7/);
    await expect(readActionDistribution(write('short.parquet', rows.slice(1)), shape)).rejects.toThrow(/sum to 1 .* found 0 at round 0, position 0/);
  });

  it('writes .npy bytes NumPy reads (format 1.0, 64-byte aligned header, little-endian float64)', () => {
    const bytes = npyFloat64Bytes([2, 3, 1], Float64Array.from([0.1, 0.2, 0.7, 1, 0, 0]));
    const header = parseNpyHeader(bytes, 'x.npy');
    expect(header).toEqual({ dtype: '<f8', shape: [2, 3, 1], dataOffset: 128 });
    expect(new Float64Array(bytes.buffer.slice(128))).toEqual(Float64Array.from([0.1, 0.2, 0.7, 1, 0, 0]));
  });
});

describe('the Open Bandit protocol on logs named by the user', () => {
  it('with the shipped files as --random-log/--bts-log equals the default run', async () => {
    const base = { resamples: 100, draws: 20_000, seed: 3 };
    const shipped = await runOpenBanditProtocol(base);
    const named = await runOpenBanditProtocol({ ...base, randomLog: randomMen, btsLog: btsMen });
    expect(named.table).toEqual(shipped.table);
    expect(named.groundTruth).toBe(shipped.groundTruth);
    expect(named.loggingLog).toBe(randomMen);
    await expect(runOpenBanditProtocol({ ...base, randomLog: randomMen })).rejects.toThrow(/btsLog: expected both/);
  });
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'ope', ...args, '--quiet'], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('clicklab ope --action-dist / --export-action-dist / --random-log --bts-log', () => {
  it('export → --action-dist round-trips to identical estimates', () => {
    const exported = join(dir, 'bts-export.npy');
    const common = ['--log', randomMen, '--resamples', '50', '--draws', '5000'];
    execFileSync(process.execPath, [cli, 'ope', ...common, '--policy', 'bts', '--export-action-dist', exported, '--out', join(dir, 'e1'), '--quiet']);
    execFileSync(process.execPath, [cli, 'ope', ...common, '--action-dist', exported, '--out', join(dir, 'e2'), '--quiet']);
    type Written = { result: { table: unknown[]; actionDist: string | null } };
    const first = JSON.parse(readFileSync(join(dir, 'e1', 'results.json'), 'utf8')) as Written;
    const second = JSON.parse(readFileSync(join(dir, 'e2', 'results.json'), 'utf8')) as Written;
    expect(second.result.table).toEqual(first.result.table);
    expect(second.result.actionDist).toBe(exported);
    expect(parseNpyHeader(readFileSync(exported), exported).shape).toEqual([10_000, 34, 3]);
  });

  it('refuses a wrong shape, sums other than 1 and NaN with a one-line error naming the file, round and position (exit 1)', () => {
    const values = new Float64Array(10_000 * 34 * 3).fill(1 / 34);
    const cases: [string, Buffer, RegExp][] = [
      [
        'shape.npy',
        npyBytes({ descr: '<f8', shape: [10_000, 34, 2], data: values.subarray(0, 10_000 * 34 * 2) }),
        /expected shape \(10000, 34, 3\) \(the log's rows × items × positions\), found \(10000, 34, 2\)$/,
      ],
      [
        'sum.npy',
        (() => {
          const v = values.slice();
          v[(12 * 34 + 5) * 3 + 2] += 0.01;
          return Buffer.from(npyFloat64Bytes([10_000, 34, 3], v));
        })(),
        /expected the probabilities over the 34 actions to sum to 1 \(±0\.000001\) at every round and position, found 1\.01\d* at round 12, position 2 \(0-based\)$/,
      ],
      [
        'nan.npy',
        (() => {
          const v = values.slice();
          v[(7 * 34 + 3) * 3 + 1] = Number.NaN;
          return Buffer.from(npyFloat64Bytes([10_000, 34, 3], v));
        })(),
        /expected probabilities in \[0, 1\], found NaN at round 7, action 3, position 1 \(0-based\)$/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const r = run(['--log', randomMen, '--action-dist', file, '--out', join(dir, `o-${name}`)]);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0].startsWith(`clicklab: ${file}: `)).toBe(true);
      expect(lines[0]).toMatch(message);
    }
  });

  it('--protocol obd with the shipped files as --random-log/--bts-log prints the default run’s numbers', () => {
    const common = ['--resamples', '50', '--draws', '5000'];
    const shipped = run([...common, '--out', join(dir, 'p1')]);
    const exported = join(dir, 'obd-export.npy');
    const named = run([...common, '--random-log', randomMen, '--bts-log', btsMen, '--export-action-dist', exported, '--out', join(dir, 'p2')]);
    expect(shipped.status).toBe(0);
    expect(named.status).toBe(0);
    const table = (s: string) => s.slice(s.indexOf('estimator'), s.indexOf('wall time'));
    expect(table(named.stdout)).toBe(table(shipped.stdout));
    // The protocol's π_e exported (per row of the random log) and read back gives the same table.
    const back = run([...common, '--action-dist', exported, '--out', join(dir, 'p4')]);
    expect(back.status).toBe(0);
    expect(back.stdout).toContain(`action distribution: ${exported}`);
    expect(table(back.stdout)).toBe(table(shipped.stdout));
    const only = run([...common, '--random-log', randomMen, '--out', join(dir, 'p3')]);
    expect(only.status).toBe(1);
    expect(only.stderr.trim()).toBe("clicklab: --bts-log: expected both the campaign's random log and its BTS log, found only one");
  });
});
