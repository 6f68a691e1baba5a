import type { Argv, ArgumentsCamelCase } from 'yargs';
import { compareRuns, formatComparison } from '../runner/compare-runs.js';
import { alignColumns } from '../core/text-table.js';
import { texts, withOptions } from './options.js';

interface CompareArgs {
  runA: string;
  runB: string;
  metric?: string[];
}

export const compareCommand = {
  command: 'compare <runA> <runB>',
  describe: 'Two finished runs side by side: cells matched by their grid parameters, then methods and metrics; means, differences (B − A) and Welch tests over seeds',
  builder: (yargs: Argv) =>
    withOptions(yargs.positional('runA', { type: 'string', demandOption: true, describe: 'a run folder (clicklab run --out)' }).positional('runB', { type: 'string', demandOption: true }), {
      metric: texts(undefined, 'only these metrics (default: all)'),
    }) as unknown as Argv<CompareArgs>,
  handler: (args: ArgumentsCamelCase<CompareArgs>) => {
    const comparison = compareRuns(args.runA, args.runB, args.metric);
    process.stdout.write(`A = ${args.runA}\nB = ${args.runB}\n\n`);
    if (comparison.rows.length > 0) process.stdout.write(`${alignColumns(formatComparison(comparison))}\n`);
    else process.stdout.write('no (cell, method, metric) in common\n');
    if (comparison.onlyInA + comparison.onlyInB > 0) process.stdout.write(`\nunmatched: ${comparison.onlyInA} only in A, ${comparison.onlyInB} only in B\n`);
  },
};
