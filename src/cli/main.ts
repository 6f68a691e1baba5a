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
import { trainCommand } from './train.js';

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
  .demandCommand(1, 'name a command, e.g. clicklab run sim/ultr-mq2008.json')
  .strict()
  .help()
  .fail((message, error, y) => {
    if (error) exitWithError(error);
    process.stderr.write(`${y.help()}\n\n${message}\n`);
    process.exit(1);
  });

try {
  await cli.parseAsync();
} catch (error) {
  // yargs hands an async handler's error to .fail, but lets a synchronous handler's error escape.
  exitWithError(error);
}

/**
 * Our own errors, and file-system errors (missing input, missing output folder), already say what
 * is wrong and where: print them in one line, without a stack trace. Anything else is a bug: rethrow.
 */
function exitWithError(error: unknown): never {
  const known = error instanceof ClickLabError ? error : fileSystemError(error);
  if (known === undefined) throw error;
  process.stderr.write(`clicklab: ${known.message}\n`);
  process.exit(1);
}
