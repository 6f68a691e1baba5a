import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { renderSvg, metricCharts } from './charts.js';
import { formatValue, type Experiment } from './experiment.js';
import { summariseCells, tidyFormats, tidyResults, type SummaryRow } from './experiment-results.js';
import { formatP } from '../core/text-table.js';
import { writeFileAtomic } from '../core/files.js';
import type { CellOutcomes, ChartRequest, TableRequest } from '../studies/study-kind.js';

export interface ReportContext {
  /** The command that made the run, shown in the reports. */
  readonly command?: string;
  /** e.g. the TF.js backend used. */
  readonly notes?: readonly string[];
}

/**
 * Write a finished run's tables and reports into `outDir`: results.{parquet,csv,json} (the tidy
 * table), summary.json, charts/*.svg, report.md and a self-contained report.html. Nothing here
 * depends on when or how the run was made, so a resumed run writes the same files.
 */
export async function writeExperimentReport(experiment: Experiment, cells: readonly CellOutcomes[], outDir: string, context: ReportContext = {}): Promise<SummaryRow[]> {
  const table = tidyResults(experiment, cells);
  const { csv, json, parquet } = tidyFormats(table);
  writeFileAtomic(path.join(outDir, 'results.csv'), csv);
  writeFileAtomic(path.join(outDir, 'results.json'), json);
  writeFileAtomic(path.join(outDir, 'results.parquet'), parquet);
  const summary = summariseCells(experiment, cells);
  writeFileAtomic(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const charts: ChartRequest[] = [...metricCharts(experiment, summary), ...(experiment.kind.charts?.(cells) ?? [])];
  const svgs: string[] = [];
  mkdirSync(path.join(outDir, 'charts'), { recursive: true });
  for (const chart of charts) {
    const svg = await renderSvg(chart.spec);
    svgs.push(svg);
    writeFileAtomic(path.join(outDir, 'charts', `${chart.name}.svg`), svg);
  }
  const tables = experiment.kind.tables?.(cells) ?? [];
  writeFileAtomic(path.join(outDir, 'report.md'), markdownReport(experiment, summary, charts, tables, context));
  writeFileAtomic(path.join(outDir, 'report.html'), htmlReport(experiment, summary, charts, svgs, tables, context));
  return summary;
}

/** The comparison table: per cell and method, each metric's mean ± 95% half-width, and the paired test of the primary metric against the baseline. */
export function comparisonRows(experiment: Experiment, summary: readonly SummaryRow[]): string[][] {
  const primary = experiment.primaryMetric.name;
  const gridColumns = experiment.grid.map((g) => g.path);
  const header = [...gridColumns, 'method', ...experiment.metrics.map((m) => `${m} (±95%)`), ...(experiment.baseline ? [`Δ${primary} vs ${experiment.baseline} (p)`] : [])];
  const rows: string[][] = [header];
  const keys = [...new Set(summary.map((r) => `${r.cell}\u0000${r.method}`))];
  for (const key of keys) {
    const [cell, method] = key.split('\u0000');
    const of = summary.filter((r) => r.cell === cell && r.method === method);
    const first = of[0];
    const cellText = (metric: string) => {
      const r = of.find((x) => x.metric === metric);
      // One seed has no interval over seeds: show the mean alone.
      return r ? `${format(r.mean)}${r.seeds > 1 ? ` ± ${format(r.ci95, r.mean)}` : ''}` : '';
    };
    const primaryRow = of.find((x) => x.metric === primary);
    const test = primaryRow?.vsBaseline;
    rows.push([
      ...gridColumns.map((g) => formatValue(first.params[g])),
      method,
      ...experiment.metrics.map(cellText),
      ...(experiment.baseline
        ? [
            test
              ? `${test.meanDifference >= 0 ? '+' : ''}${format(test.meanDifference, primaryRow!.mean)} (${formatP(test.p)}, ${test.pairedOver === 'units' ? `${test.n} units` : `${test.n} seeds`})`
              : '',
          ]
        : []),
    ]);
  }
  return rows;
}

/** Four decimals for values below 10 (metrics in [0, 1]), one above (counts such as regret). */
function format(x: number, scale = x): string {
  return Math.abs(scale) >= 10 ? x.toFixed(1) : x.toFixed(4);
}

function describeRun(experiment: Experiment, context: ReportContext): string[] {
  return [
    `- Study: ${experiment.study} (${experiment.kind.description}).`,
    `- Grid: ${experiment.grid.length === 0 ? 'none (one cell)' : experiment.grid.map((g) => `${g.path} ∈ {${g.values.map((v) => formatValue(v)).join(', ')}}`).join(' × ')}; ${experiment.cells.length} cell${experiment.cells.length > 1 ? 's' : ''}.`,
    `- Seeds: ${experiment.seeds.join(', ')}. Intervals: 95% Student-t over seeds. Paired tests: method − ${experiment.baseline ?? '(no baseline)'}, two-sided t-test ${experiment.kind.name === 'ultr' ? 'over test queries (each averaged over seeds)' : 'over seeds'}.`,
    ...(context.notes ?? []).map((n) => `- ${n}`),
    ...(context.command ? [`- Made with: \`${context.command}\``] : []),
  ];
}

function markdownTable(rows: readonly (readonly string[])[], textColumns: number): string[] {
  const escapeCell = (cell: string) => cell.replace(/\|/g, '\\|');
  return [`| ${rows[0].map(escapeCell).join(' | ')} |`, `|${rows[0].map((_, i) => (i < textColumns ? '---' : '--:')).join('|')}|`, ...rows.slice(1).map((r) => `| ${r.map(escapeCell).join(' | ')} |`)];
}

function markdownReport(experiment: Experiment, summary: readonly SummaryRow[], charts: readonly ChartRequest[], tables: readonly TableRequest[], context: ReportContext): string {
  const rows = comparisonRows(experiment, summary);
  return [
    `# ${experiment.name}`,
    '',
    experiment.description,
    '',
    ...describeRun(experiment, context),
    '',
    '## Comparison',
    '',
    ...markdownTable(rows, experiment.grid.length + 1),
    '',
    ...tables.flatMap((t) => [`### ${t.title}`, '', t.caption, '', ...markdownTable(t.rows, 1), '']),
    '## Charts',
    '',
    ...charts.flatMap((c) => [`### ${c.title}`, '', `![${c.title}](charts/${c.name}.svg)`, '', c.caption, '']),
    'Data: `results.parquet` / `results.csv` / `results.json` (one row per cell × method × metric × seed), `summary.json` (means, intervals, paired tests).',
    '',
  ].join('\n');
}

function htmlReport(experiment: Experiment, summary: readonly SummaryRow[], charts: readonly ChartRequest[], svgs: readonly string[], tables: readonly TableRequest[], context: ReportContext): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const inline = (s: string) => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');
  const rows = comparisonRows(experiment, summary);
  const htmlTable = (rows: readonly (readonly string[])[], numericFrom: number) =>
    `<table><thead><tr>${rows[0].map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n${rows
      .slice(1)
      .map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
      .join('\n')}\n</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(experiment.name)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; } th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } figure { margin: 1.5em 0; } figcaption { color: #555; font-size: 0.9em; }
</style></head><body>
<h1>${esc(experiment.name)}</h1>
<p>${esc(experiment.description)}</p>
<ul>${describeRun(experiment, context)
    .map((l) => `<li>${inline(l.slice(2))}</li>`)
    .join('')}</ul>
<h2>Comparison</h2>
${htmlTable(rows, experiment.grid.length + 1)}
${tables.map((t) => `<h3>${esc(t.title)}</h3><p>${esc(t.caption)}</p>${htmlTable(t.rows, 1)}`).join('\n')}
<h2>Charts</h2>
${charts.map((c, i) => `<figure><h3>${esc(c.title)}</h3>${svgs[i]}<figcaption>${esc(c.caption)}</figcaption></figure>`).join('\n')}
</body></html>
`;
}
