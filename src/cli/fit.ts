import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { readClickLog } from '../data/click-log-io.js';
import { fitClickModel, FittedWorld, formatFitReport, FITTED_MODEL_TYPES, fittedModelName, type FittedModelType } from '../fitting/index.js';
import { outputFolderExists, positiveIntegers } from './checks.js';

interface FitArgs {
  model: FittedModelType;
  log: string;
  out: string;
  testFraction: number;
  iterations: number;
  listLength?: number;
  seed: number;
  quiet: boolean;
}

export const fitCommand = {
  command: 'fit',
  describe: 'Fit a click model (PBM, CM, DCM, DBN, SDBN, UBM, CCM) to a click log by EM, print its log-likelihood and perplexity on held-out sessions, and save it as a world for `clicklab simulate --world`',
  builder: (yargs: Argv) =>
    yargs
      .option('model', { choices: FITTED_MODEL_TYPES, coerce: fittedModelName, demandOption: true, describe: 'click model to fit (cascade: cm)' })
      .option('log', { type: 'string', demandOption: true, describe: 'click log: .csv, .jsonl, .arrow or .parquet (columns session, query, item_id, position, click)' })
      .option('out', { type: 'string', demandOption: true, describe: 'where to save the fitted model and its logged rankings (JSON)' })
      .option('test-fraction', { type: 'number', default: 0.25, describe: 'fraction of sessions held out for evaluation (seeded)' })
      .option('iterations', { type: 'number', default: 50, describe: 'EM iterations (PyClick’s default)' })
      .option('list-length', { type: 'number', describe: 'ranks the model has parameters for (default: the longest session); longer sessions are an error' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the train/test split' })
      .option('quiet', { type: 'boolean', default: false })
      .check((argv) => {
        positiveIntegers(argv, ['iterations', ...(argv.listLength === undefined ? [] : ['listLength'])]);
        const f = argv.testFraction as number;
        if (!(f >= 0 && f < 1)) throw new ConfigError('--test-fraction', `expected a number in [0, 1), found ${f}`);
        return true;
      }) as unknown as Argv<FitArgs>,
  handler: async (args: ArgumentsCamelCase<FitArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    outputFolderExists(args.out);
    const { log } = await readClickLog(args.log);
    const report = fitClickModel(log, { model: args.model, iterations: args.iterations, testFraction: args.testFraction, seed: args.seed, listLength: args.listLength, source: args.log, progress });
    await FittedWorld.fromFit(report, args.log).save(args.out);
    process.stdout.write(`${formatFitReport(report, args.log)}\n\nfitted model written to ${args.out}\n`);
  },
};
