import { statSync } from 'node:fs';
import { writeFileAtomic } from '../core/files.js';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { parseColumnMapping } from '../data/convert.js';
import { joinTrainTest, readLogInput, type LogInputOptions } from '../data/log-input.js';
import { engineFitJson, fitClickModel, fitWithEngine, formatEngineFitReport, FittedWorld, formatFitReport, FITTED_MODEL_TYPES, fittedModelName, type FittedModelType } from '../fitting/index.js';
import { guardOutput } from './checks.js';
import { choice, count, num, quietOption, requiredText, seedOption, text, withOptions } from './options.js';

interface FitArgs {
  model: FittedModelType;
  log: string;
  testLog?: string;
  columns?: string;
  ids?: 'integer' | 'text';
  engine?: 'memory' | 'duckdb';
  memoryLimit: string;
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
      'test-log': text(undefined, 'a second log to evaluate on (train on --log, test on this; --test-fraction is then not used); read as --log is'),
      columns: text(undefined, 'a generic query/document/position/click table: its columns by role, e.g. query=qid,document=url,position=rank,click=clicked,session= (empty: no session column)'),
      ids: choice(['integer', 'text'] as const, undefined, 'text: query/document ids are any text (URLs, hashes), encoded as dense indices'),
      engine: choice(['memory', 'duckdb'] as const, undefined, 'duckdb: out of core, PBM and UBM fitted from GROUP BY counts (default for a folder or a glob; memory otherwise)'),
      'memory-limit': text('1GB', "duckdb: DuckDB's memory limit (it spills to a temporary folder beyond it)"),
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
    guardOutput(args.out, { kind: 'file', inputs: [['--log', args.log], ...(args.testLog === undefined ? [] : [['--test-log', args.testLog] as [string, string]])] });
    if ((args.engine ?? (isFolderOrGlob(args.log) ? 'duckdb' : 'memory')) === 'duckdb') {
      if (args.ids === 'text') throw new ConfigError('--ids', 'expected integer ids with --engine duckdb (text ids are read in memory), found text');
      const report = await fitWithEngine({
        model: args.model,
        log: args.log,
        testLog: args.testLog,
        iterations: args.iterations,
        listLength: args.listLength,
        columns: args.columns === undefined ? undefined : parseColumnMapping(args.columns),
        memoryLimit: args.memoryLimit,
        progress,
      });
      const source = args.testLog === undefined ? args.log : `${args.log} (test: ${args.testLog})`;
      writeFileAtomic(args.out, `${JSON.stringify(engineFitJson(report, args.log))}\n`);
      process.stdout.write(`${formatEngineFitReport(report, source)}\n\nfitted parameters written to ${args.out} (clicklab/fitted-counts@1; not a world for simulate --world)\n`);
      return;
    }
    const input: LogInputOptions = { columns: args.columns === undefined ? undefined : parseColumnMapping(args.columns), ids: args.ids };
    const train = await readLogInput(args.log, input);
    const joined = args.testLog === undefined ? null : joinTrainTest(train, await readLogInput(args.testLog, input));
    const { log } = (joined ?? train).logged;
    const source = joined ? `${args.log} (test: ${args.testLog})` : args.log;
    const report = fitClickModel(log, {
      model: args.model,
      iterations: args.iterations,
      testFraction: args.testFraction,
      testFrom: joined?.testFrom,
      seed: args.seed,
      listLength: args.listLength,
      source,
      progress,
    });
    await FittedWorld.fromFit(report, args.log).save(args.out);
    process.stdout.write(`${formatFitReport(report, source)}\n\nfitted model written to ${args.out}\n`);
  },
};

function isFolderOrGlob(path: string): boolean {
  if (/[*?[]/.test(path)) return true;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
