import { fileURLToPath } from 'node:url';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../learning/backend.js';
import { formatBenchmarks, runBenchmarks } from '../experiments/benchmark.js';
import { positiveIntegers } from './checks.js';

interface BenchArgs {
  backend: BackendChoice;
  steps: number;
  sessions: number;
}

export const benchCommand = {
  command: 'bench',
  describe: 'Measure training, simulation and reading throughput on this machine (ratios to a baseline run in the same process)',
  builder: (yargs: Argv) =>
    yargs
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'TF.js backend' })
      .option('steps', { type: 'number', default: 200, describe: 'training steps timed per learner' })
      .option('sessions', { type: 'number', default: 1_000_000, describe: 'sessions simulated' })
      .check((argv) => positiveIntegers(argv, ['steps', 'sessions'])) as unknown as Argv<BenchArgs>,
  handler: async (args: ArgumentsCamelCase<BenchArgs>) => {
    const backend = await initBackend(args.backend);
    process.stdout.write(`backend: ${backend.name} (${backend.description})\n\n`);
    const letorFile = fileURLToPath(new URL('../../datasets/mq2008/S1.txt.gz', import.meta.url));
    process.stdout.write(`${formatBenchmarks(runBenchmarks({ steps: args.steps, sessions: args.sessions, letorFile }))}\n`);
  },
};
