import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { readClickLog } from '../data/click-log-io.js';
import { fitClickModel, FittedWorld, formatFitReport, FITTED_MODEL_TYPES, fittedModelName, type FittedModelType } from '../fitting/index.js';
import { guardOutput } from './checks.js';
import { choice, count, num, quietOption, requiredText, seedOption, withOptions } from './options.js';

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
  describe:
    'Fit a click model (PBM, CM, DCM, DBN, SDBN, UBM, CCM) to a click log by EM, print its log-likelihood and perplexity on held-out sessions, and save it as a world for `clicklab simulate --world`',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      model: { ...choice(FITTED_MODEL_TYPES, 'required', 'click model to fit (cascade: cm)'), coerce: fittedModelName },
      log: requiredText('click log: .csv, .jsonl, .arrow or .parquet (columns session, query, item_id, position, click)'),
      out: requiredText('where to save the fitted model and its logged rankings (JSON)'),
      'test-fraction': num(0.25, 'fraction of sessions held out for evaluation (seeded)'),
      iterations: count(50, 'EM iterations (PyClick’s default)'),
      'list-length': count(undefined, 'ranks the model has parameters for (default: the longest session); longer sessions are an error'),
      seed: seedOption('seed of the train/test split'),
      quiet: quietOption(),
    }).check((argv) => {
      const f = argv.testFraction as number;
      if (!(f >= 0 && f < 1)) throw new ConfigError('--test-fraction', `expected a number in [0, 1), found ${f}`);
      return true;
    }) as unknown as Argv<FitArgs>,
  handler: async (args: ArgumentsCamelCase<FitArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    guardOutput(args.out, { kind: 'file', inputs: [['--log', args.log]] });
    const { log } = await readClickLog(args.log);
    const report = fitClickModel(log, { model: args.model, iterations: args.iterations, testFraction: args.testFraction, seed: args.seed, listLength: args.listLength, source: args.log, progress });
    await FittedWorld.fromFit(report, args.log).save(args.out);
    process.stdout.write(`${formatFitReport(report, args.log)}\n\nfitted model written to ${args.out}\n`);
  },
};
