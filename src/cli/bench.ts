import { writeFileAtomic } from '../core/files.js';
import { shippedDataPath } from '../data/shipped.js';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { runBenchmarks } from '../bench/benchmark.js';
import { benchmarkRecords, formatBenchmarks } from '../bench/rows.js';
import { guardOutput } from './checks.js';
import { backendOption, count, text, withOptions } from './options.js';

interface BenchArgs {
  backend: BackendChoice;
  steps: number;
  sessions: number;
  results: string;
}

export const benchCommand = {
  command: 'bench',
  describe: 'Measure training, simulation and reading throughput on this machine (ratios to a baseline run in the same process)',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      backend: backendOption('TF.js backend'),
      steps: count(200, 'training steps timed per learner'),
      sessions: count(1_000_000, 'sessions simulated'),
      results: text('bench-results.json', 'where to write the rows as [{ name, unit, value, baseline?, ratio? }]'),
    }) as unknown as Argv<BenchArgs>,
  handler: async (args: ArgumentsCamelCase<BenchArgs>) => {
    guardOutput(args.results, { option: '--results', kind: 'file' });
    const backend = await initBackend(args.backend);
    process.stdout.write(`backend: ${backend.name} (${backend.description})\n\n`);
    const letorFile = shippedDataPath('mq2008/S1.txt.gz');
    const rows = await runBenchmarks({ steps: args.steps, sessions: args.sessions, letorFile });
    process.stdout.write(`${formatBenchmarks(rows)}\n`);
    writeFileAtomic(args.results, `${JSON.stringify(benchmarkRecords(rows), null, 2)}\n`);
    process.stdout.write(`\nrows written to ${args.results}\n`);
  },
};
