import type { Argv, ArgumentsCamelCase } from 'yargs';
import { stderrProgress } from '../core/progress.js';
import { CONVERT_FORMATS, convertClickLog, parseColumnMapping, type ConvertFormat } from '../data/convert.js';
import { guardOutput } from './checks.js';
import { choice, count, LOG_FILE_OUT, quietOption, text, withOptions } from './options.js';

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
    withOptions(yargs.positional('input', { type: 'string', demandOption: true, describe: 'the data set file (baidu-ultr: also a folder of partitions or a glob)' }), {
      format: choice(
        CONVERT_FORMATS,
        'required',
        "yandex: Relevance Prediction Challenge text log, raw (Q/C lines) or PyClick's example sample (detected); pyclick: PyClick's example sample; baidu-ultr: the authors' raw .gz partitions or the Parquet copies (a file, a folder of partitions or a glob), or an Arrow/Feather file; finn: data.npz; generic: CSV, JSONL, Parquet or Arrow",
      ),
      out: LOG_FILE_OUT,
      columns: text(undefined, "generic: the file's columns by role, e.g. query=qid,document=url,position=rank,click=clicked,session= (empty: no session column)"),
      ids: choice(['integer', 'text'] as const, 'integer', 'generic: text encodes any query/document ids as dense indices (written to OUT.query-ids.txt, OUT.item-ids.txt)'),
      users: count(undefined, 'finn: read only the first N users'),
      quiet: quietOption('no progress on stderr'),
      'unmatched-clicks': choice(['drop', 'error'] as const, 'drop', 'yandex, pyclick: drop clicks on results not on their page (as PyClick) or reject them'),
    }) as unknown as Argv<ConvertArgs>,
  handler: async (args: ArgumentsCamelCase<ConvertArgs>) => {
    guardOutput(args.out, { kind: 'file', inputs: [['<input>', args.input]] });
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
