// The Node half of scripts/gpu-check.sh: every backend's status, then bench-gpu at ULTRA's size on
// every available backend, each row appended to $OUT/bench-gpu-rows.jsonl as soon as it is measured.
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backendReport } from '../dist/learning/backend.js';
import { FULL_GPU_BENCHMARK, formatGpuBenchmark, runGpuBenchmark } from '../dist/bench/gpu.js';

const out = process.env.OUT;
if (!out) throw new Error('gpu-check.mjs: set OUT to the folder for the results');
const say = (file, text) => {
  process.stdout.write(`${text}\n`);
  appendFileSync(path.join(out, file), `${text}\n`);
};

const report = await backendReport();
const width = Math.max(...report.map((s) => s.backend.length));
for (const s of report) say('doctor.txt', `${s.backend.padEnd(width)}  ${s.available ? 'yes' : 'no '}  ${s.detail}`);
const webgpu = report.find((s) => s.backend === 'webgpu');
const nativeGpu = report.find((s) => s.backend === 'tensorflow (GPU)');
const onGpu = (webgpu?.available && !/software \(fallback\)/.test(webgpu.detail)) || nativeGpu?.available;
say('doctor.txt', `GPU in use: ${onGpu ? 'yes' : 'NO (only CPU backends or a software adapter: see above)'}`);

const batchSizes = (process.env.GPU_CHECK_BATCHES ?? '').split(/[ ,]+/).filter(Boolean).map(Number);
const result = await runGpuBenchmark({
  ...FULL_GPU_BENCHMARK,
  ...(batchSizes.length > 0 ? { batchSizes } : {}),
  timedSteps: Number(process.env.GPU_CHECK_STEPS ?? FULL_GPU_BENCHMARK.timedSteps),
  onRow: (row) => appendFileSync(path.join(out, 'bench-gpu-rows.jsonl'), `${JSON.stringify(row)}\n`),
});
say('bench-gpu.txt', formatGpuBenchmark(result));
writeFileSync(path.join(out, 'bench-gpu.json'), `${JSON.stringify(result, null, 2)}\n`);
process.exitCode = result.allAgree && onGpu ? 0 : 1;
