#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ClickLabError } from '../core/errors.js';
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

await yargs(hideBin(process.argv))
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
    // Our own errors already say what is wrong and where: print them without a stack trace.
    if (error instanceof ClickLabError) process.stderr.write(`clicklab: ${error.message}\n`);
    else if (error) throw error;
    else process.stderr.write(`${y.help()}\n\n${message}\n`);
    process.exit(1);
  })
  .parseAsync();
