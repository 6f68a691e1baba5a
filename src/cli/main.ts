#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ClickLabError, fileSystemError } from '../core/errors.js';
import { banditCommand } from './bandit.js';
import { benchCommand } from './bench.js';
import { convertCommand } from './convert.js';
import { opeCommand } from './ope.js';
import { benchGpuCommand } from './bench-gpu.js';
import { doctorCommand } from './doctor.js';
import { recommendCommand } from './recommend.js';
import { fitCommand } from './fit.js';
import { compareCommand } from './compare.js';
import { runCommand } from './run.js';
import { scoreCommand } from './score.js';
import { simulateCommand } from './simulate.js';
import { slatesCommand } from './slates.js';
import { trainCommand } from './train.js';

/** Exit codes: see `exitWithError`. */
const EXIT_INPUT = 1;
const EXIT_USAGE = 2;
const EXIT_INTERNAL = 3;

// An error thrown outside the awaited command (a stream, a timer) is reported the same way.
process.on('uncaughtException', (error) => exitWithError(error));
process.on('unhandledRejection', (error) => exitWithError(error));

const cli = yargs(hideBin(process.argv))
  .scriptName('clicklab')
  .command(runCommand)
  .command(simulateCommand)
  .command(banditCommand)
  .command(benchCommand)
  .command(convertCommand)
  .command(opeCommand)
  .command(benchGpuCommand)
  .command(doctorCommand)
  .command(recommendCommand)
  .command(fitCommand)
  .command(compareCommand)
  .command(trainCommand)
  .command(scoreCommand)
  .command(slatesCommand)
  .demandCommand(1, 'name a command, e.g. clicklab run sim/ultr-mq2008.json')
  .strict()
  .option('debug', { type: 'boolean', default: false, describe: 'print the stack trace of an internal error (also CLICKLAB_DEBUG=1)' })
  .help()
  .fail((message, error) => {
    if (error) exitWithError(error);
    // A usage error (unknown flag, missing argument or command): one line, exit 2.
    process.stderr.write(`clicklab: ${message ?? 'invalid usage'} (see clicklab --help)\n`);
    process.exit(EXIT_USAGE);
  });

try {
  await cli.parseAsync();
} catch (error) {
  // yargs hands an async handler's error to .fail, but lets a synchronous handler's error escape.
  exitWithError(error);
}

/**
 * The exit codes (README, "Guarantees"): 1 a failure the user can cause (bad input, a refused
 * path, a full disk), reported in one line naming the input and what was expected; 2 a usage
 * error; 3 an internal error (a bug), one line, with the stack only under --debug or CLICKLAB_DEBUG=1.
 */
function exitWithError(error: unknown): never {
  const known = error instanceof ClickLabError ? error : fileSystemError(error);
  if (known !== undefined) {
    process.stderr.write(`clicklab: ${known.message}\n`);
    process.exit(EXIT_INPUT);
  }
  if (debugging()) process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`clicklab: internal error: ${firstLine(what)}${debugging() ? '' : ' (run with --debug or CLICKLAB_DEBUG=1 for the stack)'}\n`);
  process.exit(EXIT_INTERNAL);
}

function debugging(): boolean {
  return process.argv.includes('--debug') || ['1', 'true', 'yes'].includes((process.env.CLICKLAB_DEBUG ?? '').toLowerCase());
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
