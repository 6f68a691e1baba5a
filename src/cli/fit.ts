import { statSync } from 'node:fs';
import { writeFileAtomic } from '../core/files.js';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { parseColumnMapping } from '../data/convert.js';
import { emitCountsSql, SQL_DIALECTS, type SqlDialect } from '../data/counts-sql.js';
import { joinTrainTest, readLogInput, type LogInputOptions } from '../data/log-input.js';
import {
  DEFAULT_MAX_PAIR_PARAMETERS,
  engineFitJson,
  fitClickModel,
  fitWithEngine,
  formatEngineFitReport,
  FittedWorld,
  formatFitReport,
  FITTED_MODEL_TYPES,
  fittedModelName,
  type FittedModelType,
} from '../fitting/index.js';
import { guardOutput } from './checks.js';
import { choice, count, flag, num, quietOption, seedOption, text, withOptions } from './options.js';

interface FitArgs {
  model: FittedModelType;
  log?: string;
  counts?: string;
  emitSql: boolean;
  sqlDialect: SqlDialect;
  sqlOut?: string;
  testLog?: string;
  columns?: string;
  ids?: 'integer' | 'text';
  engine?: 'memory' | 'duckdb';
  memoryLimit: string;
  maxPairParameters?: number;
  rankPerplexity: boolean;
  out?: string;
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
      log: text(undefined, 'click log: .csv, .jsonl, .arrow or .parquet (columns session, query, item_id, position, click); with --engine duckdb also a folder of partitions or a glob'),
      counts: text(
        undefined,
        'fit PBM or UBM from a counts table another engine wrote from --emit-sql (Parquet or CSV with a header: query, document, position, distance, session_length, impressions, clicks; a file, folder or glob) instead of --log',
      ),
      'emit-sql': flag('print the aggregation of --log into PBM/UBM counts as portable SQL (Spark SQL, Trino, BigQuery) and exit; see docs/spark-sql.md'),
      'sql-dialect': choice(SQL_DIALECTS, 'spark', '--emit-sql: how the script reads the log and writes the counts (the aggregation query itself is the same)'),
      'sql-out': text(undefined, '--emit-sql: where the script writes the counts table (Spark: a folder; DuckDB: a Parquet file); none: the SELECT alone'),
      'test-log': text(undefined, 'a second log to evaluate on (train on --log, test on this; --test-fraction is then not used); read as --log is'),
      columns: text(undefined, 'a generic query/document/position/click table: its columns by role, e.g. query=qid,document=url,position=rank,click=clicked,session= (empty: no session column)'),
      ids: choice(
        ['integer', 'text'] as const,
        undefined,
        'text: query/document ids are any text (URLs, hashes), encoded as dense indices and saved as text (with --engine duckdb, the default for a column that is not an integer type)',
      ),
      engine: choice(
        ['memory', 'duckdb'] as const,
        undefined,
        'duckdb: out of core, fitted from GROUP BY counts (PBM, UBM) or distinct session groups (the cascade family) (default for a folder or a glob; memory otherwise)',
      ),
      'memory-limit': text('1GB', "duckdb: DuckDB's memory limit (it spills to a temporary folder beyond it)"),
      'max-pair-parameters': count(
        undefined,
        `duckdb, the cascade family: at most this many (query, document) pairs get their own parameters (default ${DEFAULT_MAX_PAIR_PARAMETERS}: DBN's 48 bytes a pair, about 0.8 GB); beyond it the pairs are hashed into this many buckets that share parameters (CLAX-style; the report says so), and a world (--out FOLDER) is refused`,
      ),
      'rank-perplexity': {
        type: 'boolean',
        default: true,
        describe:
          "duckdb, UBM: also score the log's distinct session groups for the per-rank perplexity (one more grouping of each log: in memory up to 2²⁴ rows, beyond that kept in DuckDB and scored in one streamed pass; --no-rank-perplexity skips it)",
      },
      out: text(
        undefined,
        'where to save the fitted model and its logged rankings: FILE.json, or a FOLDER for a Parquet world (zstd; scales to 10⁸ pairs; with --engine duckdb .json saves the parameters only); required unless --emit-sql',
      ),
      'test-fraction': num(0.25, 'fraction of sessions held out for evaluation (seeded)'),
      iterations: count(50, 'EM iterations (PyClick’s default)'),
      'list-length': count(undefined, 'ranks the model has parameters for (default: the longest session); longer sessions are an error'),
      seed: seedOption('seed of the train/test split'),
      quiet: quietOption(),
    }).check((argv) => {
      if (argv.emitSql) {
        if (argv.log === undefined) throw new ConfigError('--log', 'expected the log to aggregate with --emit-sql');
      } else {
        if (argv.out === undefined) throw new ConfigError('--out', 'expected where to save the fitted model');
        if ((argv.log === undefined) === (argv.counts === undefined)) throw new ConfigError('--log', 'expected either a log (--log) or a counts table (--counts)');
      }
      const f = argv.testFraction as number;
      if (!(f >= 0 && f < 1)) throw new ConfigError('--test-fraction', `expected a number in [0, 1), found ${f}`);
      return true;
    }) as unknown as Argv<FitArgs>,
  handler: async (args: ArgumentsCamelCase<FitArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    if (args.emitSql) {
      if (args.model !== 'pbm' && args.model !== 'ubm') throw new ConfigError('--model', `expected pbm or ubm with --emit-sql (the counts the SQL computes), found '${args.model}'`);
      const columns = args.columns === undefined ? undefined : parseColumnMapping(args.columns);
      const log = args.log!;
      // The DuckDB spelling of the source comes from the engine (loaded only here).
      const duckdbSource = args.sqlDialect === 'duckdb' ? (await import('../data/engine.js')).logSourceSql(log) : undefined;
      const format = /\.(csv|tsv)(\.gz|\.zst)?$|\*\.csv/i.test(log) ? 'csv' : 'parquet';
      process.stdout.write(emitCountsSql({ model: args.model, dialect: args.sqlDialect, log, columns, out: args.sqlOut, duckdbSource, format }));
      return;
    }
    const out = args.out!;
    const logs: [string, string][] = [
      ...(args.log === undefined ? [] : [['--log', args.log] as [string, string]]),
      ...(args.counts === undefined ? [] : [['--counts', args.counts] as [string, string]]),
      ...(args.testLog === undefined ? [] : [['--test-log', args.testLog] as [string, string]]),
    ];
    // --out FILE.json: one JSON; any other name: a Parquet world (a folder), which scales past JSON's limit.
    const asJson = out.toLowerCase().endsWith('.json');
    guardOutput(out, { kind: asJson ? 'file' : 'folder', inputs: logs });
    if (args.counts !== undefined || (args.engine ?? (isFolderOrGlob(args.log!) ? 'duckdb' : 'memory')) === 'duckdb') {
      if (args.counts !== undefined && args.engine === 'memory') throw new ConfigError('--engine', 'expected --engine duckdb (or none) with --counts, found memory');
      const report = await fitWithEngine({
        model: args.model,
        log: args.log,
        counts: args.counts,
        testLog: args.testLog,
        iterations: args.iterations,
        listLength: args.listLength,
        columns: args.columns === undefined ? undefined : parseColumnMapping(args.columns),
        // Without --ids, a column that is not an integer type is read as text ids.
        ids: args.ids ?? 'auto',
        memoryLimit: args.memoryLimit,
        perplexity: args.rankPerplexity,
        maxPairParameters: args.maxPairParameters,
        progress,
        worldFolder: asJson ? undefined : out,
        // A folder's world is written by DuckDB: per-pair parameters in memory only for a JSON file.
        pairs: asJson,
      });
      const trained = args.counts ?? args.log!;
      const source = args.testLog === undefined ? trained : `${trained} (test: ${args.testLog})`;
      if (report.savedWorld) {
        process.stdout.write(`${formatEngineFitReport(report, source)}\n\nfitted world written to ${out} (a Parquet world for simulate --world)\n`);
      } else {
        let text: string;
        try {
          text = JSON.stringify(engineFitJson(report, trained));
        } catch (error) {
          // V8 caps a string near 512 MB: about 10⁷ pairs of parameters as JSON.
          if (!(error instanceof RangeError)) throw error;
          process.stdout.write(`${formatEngineFitReport(report, source)}\n`);
          throw new ConfigError(
            '--out',
            `the parameters of ${report.pairQuery.length.toLocaleString('en-US')} pairs do not fit in one JSON string (V8's limit, about 512 MB): give a folder instead of ${out} to save them as Parquet`,
          );
        }
        writeFileAtomic(out, `${text}\n`);
        process.stdout.write(
          `${formatEngineFitReport(report, source)}\n\nfitted parameters written to ${out} (clicklab/fitted-counts@1; give a folder instead of .json for a world that simulate --world reads)\n`,
        );
      }
      return;
    }
    const input: LogInputOptions = { columns: args.columns === undefined ? undefined : parseColumnMapping(args.columns), ids: args.ids };
    const train = await readLogInput(args.log!, input);
    const joined = args.testLog === undefined ? null : joinTrainTest(train, await readLogInput(args.testLog, input));
    const read = joined ?? train;
    const { log } = read.logged;
    const source = joined ? `${args.log} (test: ${args.testLog})` : args.log!;
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
    const textIds = read.queryIds || read.itemIds ? { query: read.queryIds, document: read.itemIds } : undefined;
    await FittedWorld.fromFit(report, args.log!, textIds).save(out);
    process.stdout.write(`${formatFitReport(report, source)}\n\nfitted model written to ${out}\n`);
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
