import { writeFileAtomic } from '../core/files.js';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ClickLabError, ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { FULL_GPU_BENCHMARK, formatGpuBenchmark, GPU_LEARNERS, QUICK_GPU_BENCHMARK, runGpuBenchmark, type GpuLearner } from '../bench/gpu.js';
import type { BackendChoice } from '../learning/backend.js';
import { guardOutput } from './checks.js';
import { flag, num, numbers, quietOption, text, texts, withOptions } from './options.js';

interface BenchGpuArgs {
  quick: boolean;
  backends?: string[];
  batchSizes?: number[];
  learners?: string[];
  steps?: number;
  out: string;
  quiet: boolean;
}

const RUNNABLE = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

export const benchGpuCommand = {
  command: 'bench-gpu',
  describe: 'Training throughput of naive, IPS and DLA (MLP 512-256-128, batches of 256 to 8192 queries) on every available backend, as ratios to wasm, with a check that the losses agree with wasm',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      quick: flag(`reduced run: batch ${QUICK_GPU_BENCHMARK.batchSizes.join(', ')}, ${QUICK_GPU_BENCHMARK.timedSteps} timed steps`),
      backends: texts(undefined, `backends to run (${RUNNABLE.join(', ')}); default every available one but cpu; wasm always runs as the baseline`),
      'batch-sizes': numbers(undefined, `queries per batch (default ${FULL_GPU_BENCHMARK.batchSizes.join(' ')})`),
      learners: texts(undefined, `learners (${GPU_LEARNERS.join(', ')})`),
      steps: num(undefined, `timed steps per cell (default ${FULL_GPU_BENCHMARK.timedSteps}, quick ${QUICK_GPU_BENCHMARK.timedSteps})`),
      out: text('bench-gpu-results.json', 'where to write the result (JSON)'),
      quiet: quietOption('no progress on stderr'),
    }) as unknown as Argv<BenchGpuArgs>,
  handler: async (args: ArgumentsCamelCase<BenchGpuArgs>) => {
    const base = args.quick ? QUICK_GPU_BENCHMARK : FULL_GPU_BENCHMARK;
    const backends = args.backends?.map((b) => {
      if (!(RUNNABLE as readonly string[]).includes(b)) throw new ConfigError('--backends', `expected some of ${RUNNABLE.join(', ')}, found "${b}"`);
      return b as Exclude<BackendChoice, 'auto'>;
    });
    const learners = args.learners?.map((l) => {
      if (!(GPU_LEARNERS as readonly string[]).includes(l)) throw new ConfigError('--learners', `expected some of ${GPU_LEARNERS.join(', ')}, found "${l}"`);
      return l as GpuLearner;
    });
    for (const [name, values] of [
      ['--batch-sizes', args.batchSizes],
      ['--steps', args.steps === undefined ? undefined : [args.steps]],
    ] as const) {
      for (const v of values ?? []) if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `expected integers ≥ 1, found ${v}`);
    }
    guardOutput(args.out, { kind: 'file' });
    const result = await runGpuBenchmark({
      ...base,
      backends,
      batchSizes: args.batchSizes ?? base.batchSizes,
      learners: learners ?? base.learners,
      timedSteps: args.steps ?? base.timedSteps,
      progress: stderrProgress({ quiet: args.quiet }),
    });
    process.stdout.write(`${formatGpuBenchmark(result)}\n`);
    writeFileAtomic(args.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`result written to ${args.out}\n`);
    if (!result.allAgree) throw new ClickLabError('bench-gpu: some backend computed losses that differ from wasm beyond the tolerance (see "agrees" above)');
  },
};
