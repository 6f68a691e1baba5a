import type { Argv, ArgumentsCamelCase } from 'yargs';
import { stderrProgress } from '../core/progress.js';
import { CONVERT_FORMATS, convertClickLog, parseColumnMapping, type ConvertFormat } from '../data/convert.js';
import { positiveIntegers } from './checks.js';

interface ConvertArgs {
  input: string;
  format: ConvertFormat;
  out: string;
  columns?: string;
  ids: 'integer' | 'text';
  users?: number;
  unmatchedClicks: 'drop' | 'error';
  quiet: boolean;
}

export const convertCommand = {
  command: 'convert <input>',
  describe: 'Turn a real click log (Yandex, Baidu-ULTR, FINN.no slates, or a generic query/document/position/click table) into a clicklab click log',
  builder: (yargs: Argv) =>
    yargs
      .positional('input', { type: 'string', demandOption: true, describe: 'the data set file' })
      .option('format', { choices: CONVERT_FORMATS, demandOption: true, describe: 'yandex: Relevance Prediction Challenge text log; baidu-ultr: Parquet/Arrow sessions; finn: data.npz; generic: CSV, JSONL, Parquet or Arrow' })
      .option('out', { type: 'string', demandOption: true, describe: 'output file: .csv, .jsonl, .arrow or .parquet' })
      .option('columns', { type: 'string', describe: "generic: the file's columns by role, e.g. query=qid,document=url,position=rank,click=clicked,session= (empty: no session column)" })
      .option('ids', { choices: ['integer', 'text'] as const, default: 'integer' as const, describe: 'generic: text encodes any query/document ids as dense indices (written to OUT.query-ids.txt, OUT.item-ids.txt)' })
      .option('users', { type: 'number', describe: 'finn: read only the first N users' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
      .option('unmatched-clicks', { choices: ['drop', 'error'] as const, default: 'drop' as const, describe: 'yandex: drop clicks on results not on their page (as PyClick) or reject them' })
      .check((argv) => (argv.users === undefined ? true : positiveIntegers(argv, ['users']))) as unknown as Argv<ConvertArgs>,
  handler: async (args: ArgumentsCamelCase<ConvertArgs>) => {
    const summary = await convertClickLog(args.input, args.out, {
      format: args.format,
      columns: args.columns === undefined ? undefined : parseColumnMapping(args.columns),
      ids: args.ids,
      users: args.users,
      unmatchedClicks: args.unmatchedClicks,
      progress: stderrProgress({ quiet: args.quiet }),
    });
    process.stdout.write(`${args.out}: ${summary.sessions} sessions, ${summary.rows} displayed results, ${summary.clicks} clicks\n`);
    for (const note of summary.notes) process.stdout.write(`  ${note}\n`);
    for (const file of summary.idFiles) process.stdout.write(`  ids: ${file}\n`);
  },
};
