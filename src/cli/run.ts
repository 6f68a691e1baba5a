import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ClickLabError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../learning/backend.js';
import { loadScenario } from '../experiments/scenario.js';
import { formatResult, runScenario, writeRunOutputs } from '../experiments/run-scenario.js';
import { positiveIntegers } from './checks.js';

interface RunArgs {
  scenario: string;
  out?: string;
  backend: BackendChoice;
  seeds?: number[];
  dataset?: string;
  fold?: number;
  workers: number;
  quiet: boolean;
}

export const runCommand = {
  command: 'run <scenario>',
  describe: 'Run a scenario file (e.g. sim/ultr-mq2008.json): simulate clicks, train every learner over its seeds, print the comparison table',
  builder: (yargs: Argv) =>
    yargs
      .positional('scenario', { type: 'string', demandOption: true, describe: 'path to the scenario JSON' })
      .option('out', { type: 'string', describe: 'output folder (default runs/<time>-<scenario name>/)' })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'TF.js backend: auto = native TensorFlow on a GPU, WebGPU on a hardware adapter, native TensorFlow on the CPU, wasm, cpu (see clicklab doctor)' })
      .option('seeds', { type: 'number', array: true, describe: 'override the scenario seeds' })
      .option('dataset', { type: 'string', describe: 'override the data set with a shipped one (mq2008)' })
      .option('fold', { type: 'number', describe: 'override the fold (1-5 for mq2008)' })
      .option('workers', { type: 'number', default: availableParallelism(), describe: 'seeds run in parallel worker threads (default: the core count)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
      .check((argv) => positiveIntegers(argv, ['workers'])) as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    const scenario = loadScenario(args.scenario, { dataset: args.dataset, fold: args.fold, seeds: args.seeds });
    const backend = await initBackend(args.backend);
    if (!backend.syncReads) throw new ClickLabError(`--backend ${backend.name}: training with validation reads tensors synchronously, which ${backend.name} cannot do in Node; use tensorflow, wasm or cpu`);
    process.stdout.write(`backend: ${backend.name} (${backend.description})\n`);
    for (const reason of backend.fallbacks) progress.log(`  not used: ${reason}`);
    const result = await runScenario(scenario, { backend, backendChoice: backend.name as BackendChoice, workers: args.workers, progress });
    const stamp = result.startedAt.replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
    const outDir = args.out ?? path.join('runs', `${stamp}-${scenario.name}`);
    writeRunOutputs(result, outDir);
    process.stdout.write(`\n${formatResult(result)}\n\nwall time ${result.wallSeconds.toFixed(1)} s; results.json and report.md in ${outDir}\n`);
  },
};
