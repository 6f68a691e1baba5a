import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ClickLabError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { runGpuBenchmark } from '../../src/bench/gpu.js';
import { backendReport, initBackend } from '../../src/learning/backend.js';
import { labelBatches } from '../../src/learning/batches.js';
import { ScoringModel } from '../../src/learning/model.js';
import { listwiseObjective } from '../../src/learning/objectives.js';
import { train } from '../../src/learning/trainer.js';
import { probeWebGpu } from '../../src/learning/webgpu.js';
import { syntheticWorld } from '../helpers/synthetic.js';

// .ci/run installs Mesa's Vulkan drivers (a software adapter) and sets CLICKLAB_EXPECT_WEBGPU=1:
// there a missing adapter is a failure, elsewhere the WebGPU tests are skipped with the reason.
const expectWebGpu = process.env.CLICKLAB_EXPECT_WEBGPU === '1';
const webgpu = await probeWebGpu();
const skipWebGpu = !webgpu.ok && !expectWebGpu;
if (skipWebGpu) console.warn(`WebGPU tests skipped: ${webgpu.ok ? '' : webgpu.reason} (set CLICKLAB_EXPECT_WEBGPU=1 to make this a failure)`);

describe('backend report (clicklab doctor)', () => {
  it('lists every backend, with versions when available and a reason when not', async () => {
    const report = await backendReport();
    expect(report.map((s) => s.backend)).toEqual(['tensorflow (GPU)', 'tensorflow (CPU)', 'webgpu', 'wasm', 'cpu']);
    for (const s of report) expect(s.detail.length).toBeGreaterThan(10);
    expect(report.find((s) => s.backend === 'wasm')).toMatchObject({ available: true, detail: expect.stringMatching(/tfjs-backend-wasm \d+\.\d+/) });
    expect(report.find((s) => s.backend === 'webgpu')?.available).toBe(webgpu.ok);
    // The report switches backends while probing and puts the previous one back.
    const before = (await initBackend('wasm')).name;
    await backendReport();
    expect(tf.getBackend()).toBe(before);
  });

  it('the doctor command prints each backend and what auto picks', () => {
    const main = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [main, 'doctor'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    for (const name of ['tensorflow (GPU)', 'tensorflow (CPU)', 'webgpu', 'wasm', 'cpu']) expect(run.stdout).toMatch(new RegExp(`^${name.replace(/[()]/g, '\\$&')}\\s+(yes|no)\\s+\\S`, 'm'));
    expect(run.stdout).toMatch(/--backend auto picks: (tensorflow|webgpu|wasm) /);
    // A software adapter (lavapipe) is slower than wasm: auto must not pick it.
    if (webgpu.ok && webgpu.adapter.software) {
      expect(run.stdout).toMatch(/^webgpu\s+yes\s+.*software \(fallback\) adapter.*auto skips/m);
      expect(run.stdout).not.toMatch(/auto picks: webgpu/);
    }
  });
});

describe('WebGPU', () => {
  it.runIf(expectWebGpu)('an adapter is present, as CLICKLAB_EXPECT_WEBGPU=1 promises', () => {
    expect(webgpu.ok ? 'adapter found' : webgpu.reason).toBe('adapter found');
  });

  it.skipIf(skipWebGpu)('trains naive, IPS and DLA to the same losses as wasm, without leaking tensors', async () => {
    // An MLP with three hidden layers: 8 variables, the case that overflowed WebGPU's default
    // limit of 8 storage buffers per stage in addN (the gradient norm) and silently gave zeros.
    const result = await runGpuBenchmark({
      backends: ['wasm', 'webgpu'],
      batchSizes: [64],
      hidden: [32, 16, 8],
      numFeatures: 20,
      learners: ['naive', 'ips', 'dla'],
      warmupSteps: 1,
      timedSteps: 4,
      tolerance: 1e-4,
    });
    expect(result.rows).toHaveLength(6);
    for (const row of result.rows) {
      expect(row.leakedTensors).toBe(0);
      expect(row.losses.every((l) => l > 0.5)).toBe(true);
      // Training moves the loss: a backend that ignored the updates would repeat the first value.
      expect(Math.abs(row.losses[row.losses.length - 1] - row.losses[0])).toBeGreaterThan(1e-3);
    }
    for (const row of result.rows.filter((r) => r.backend === 'webgpu')) {
      // float32 sums in another order: relative differences of order 1e-6 per step.
      expect(row.maxLossDifference, `${row.learner}: ${row.losses} against wasm`).toBeLessThan(1e-4);
      expect(row.lossesAgree).toBe(true);
    }
  });

  it.skipIf(skipWebGpu)('train() refuses webgpu with a clear message (validation needs synchronous reads)', async () => {
    await initBackend('webgpu');
    const data = syntheticWorld(10, 5, 1);
    const model = new ScoringModel({ type: 'linear' }, data.numFeatures, randomStream('m'));
    expect(() => train(model, listwiseObjective(), labelBatches(data, 2), { steps: 1, learningRate: 0.05, clipNorm: 5, evalEvery: 1, rng: randomStream('b') })).toThrow(ClickLabError);
    model.dispose();
    await initBackend('wasm');
  });
});
