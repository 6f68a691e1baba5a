import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ClickLabError, ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { loadExperiment } from '../runner/experiment.js';
import { comparisonRows, writeExperimentReport } from '../runner/experiment-report.js';
import { alignColumns } from '../core/text-table.js';
import { runExperiment } from '../runner/run-experiment.js';
import { backendOption, flag, num, numbers, quietOption, text, workersOption, withOptions } from './options.js';

interface RunArgs {
  scenario: string;
  out?: string;
  resume: boolean;
  backend: BackendChoice;
  seeds?: number[];
  dataset?: string;
  fold?: number;
  workers: number;
  shard?: string;
  quiet: boolean;
}

export const runCommand = {
  command: 'run <scenario>',
  describe: 'Run a scenario file (e.g. sim/ultr-mq2008.json): every grid cell over every seed in worker threads, then the tidy results table, report.md and report.html',
  builder: (yargs: Argv) =>
    withOptions(yargs.positional('scenario', { type: 'string', demandOption: true, describe: 'path to the scenario JSON (schema clicklab/scenario@2 or @1)' }), {
      out: text(undefined, 'output folder (default runs/<time>-<scenario name>/)'),
      resume: flag('continue the interrupted run in --out: finished (cell, seed) results are kept, the rest run'),
      backend: backendOption('TF.js backend: auto = native TensorFlow on a GPU, WebGPU on a hardware adapter, native TensorFlow on the CPU, wasm, cpu (see clicklab doctor)'),
      seeds: numbers(undefined, 'override the scenario seeds'),
      dataset: text(undefined, 'ULTR studies: override the data set with a shipped one (mq2008)'),
      fold: num(undefined, 'ULTR studies: override the fold (1-5 for mq2008)'),
      workers: workersOption(availableParallelism(), '(cell, seed) runs in parallel worker threads (default: the core count); results do not depend on it'),
      shard: text(undefined, 'i/n: run only the i-th of n shards of the (cell, seed) tasks into --out (e.g. one per array-job task; docs/cluster.md); --resume then writes the report'),
      quiet: quietOption('no progress on stderr'),
    }) as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    // Every cell of the grid is validated before any work starts.
    const experiment = loadExperiment(args.scenario, { dataset: args.dataset, fold: args.fold, seeds: args.seeds });
    if (args.resume && args.out === undefined) throw new ConfigError('--resume', 'name the run to continue with --out DIR');
    const shard = args.shard === undefined ? undefined : parseShard(args.shard);
    if (shard && args.out === undefined) throw new ConfigError('--shard', 'name the folder all shards share with --out DIR');
    const notes: string[] = [];
    let backendChoice = args.backend;
    if (experiment.kind.needsBackend) {
      const backend = await initBackend(args.backend);
      if (!backend.syncReads)
        throw new ClickLabError(`--backend ${backend.name}: training with validation reads tensors synchronously, which ${backend.name} cannot do in Node; use tensorflow, wasm or cpu`);
      process.stdout.write(`backend: ${backend.name} (${backend.description})\n`);
      for (const reason of backend.fallbacks) progress.log(`  not used: ${reason}`);
      notes.push(`TF.js backend: ${backend.name} (${backend.description}).`);
      // Workers take the backend resolved here, so that none probes the others again.
      backendChoice = backend.name as BackendChoice;
    }
    const stamp = new Date()
      .toISOString()
      .replace(/[:.]/g, '-')
      .replace(/-\d{3}Z$/, 'Z');
    const outDir = args.out ?? path.join('runs', `${stamp}-${experiment.name}`);
    const state = await runExperiment(experiment, { outDir, workers: args.workers, backend: backendChoice, resume: args.resume, progress, shard });
    if (shard) {
      // Shards never write the report (which of them finishes last is a race): --resume does, once all are done.
      process.stdout.write(
        `shard ${shard.index}/${shard.count}: ${state.ran} runs in ${state.wallSeconds.toFixed(1)} s; ${state.complete ? 'every shard is done' : 'other shards have runs left'}: clicklab run ${args.scenario} --out ${outDir} --resume writes the tables and reports\n`,
      );
      return;
    }
    if (!state.cells) return;
    const command = `clicklab run ${process.argv.slice(3).join(' ')}`;
    const summary = await writeExperimentReport(experiment, state.cells, outDir, { command, notes });
    process.stdout.write(
      `\n${alignColumns(comparisonRows(experiment, summary))}\n\n${state.ran} runs in ${state.wallSeconds.toFixed(1)} s${state.reused > 0 ? ` (${state.reused} reused)` : ''}; ` +
        `results.{parquet,csv,json}, summary.json, report.md, report.html and charts/ in ${outDir}\n`,
    );
  },
};

/** `i/n` with 1 ≤ i ≤ n. */
function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
  if (!(index >= 1 && index <= count)) throw new ConfigError('--shard', `expected i/n with 1 ≤ i ≤ n (e.g. 2/8), found "${text}"`);
  return { index, count };
}
