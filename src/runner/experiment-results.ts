import * as aq from 'arquero';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { confidenceHalfWidth, mean, pairedTTest, standardDeviation } from '../evaluation/statistics.js';
import { formatValue, type Experiment } from './experiment.js';
import type { CellOutcomes } from '../studies/study-kind.js';
import type { Json } from '../core/validate.js';

type Table = ReturnType<typeof aq.table>;

/**
 * The tidy results table: one row per cell × method × metric × seed, with one column per grid
 * axis (named by its path) holding the cell's value: `cell, <grid paths…>, method, metric, seed, value`.
 */
export function tidyResults(experiment: Experiment, cells: readonly CellOutcomes[]): Table {
  const columns: Record<string, (string | number)[]> = { cell: [] };
  const axes = experiment.grid.map((g) => ({ path: g.path, numeric: g.values.every((v) => typeof v === 'number') }));
  for (const axis of axes) columns[axis.path] = [];
  Object.assign(columns, { method: [], metric: [], seed: [], value: [] });
  for (const cell of cells) {
    cell.outcomes.forEach((outcome, s) => {
      for (const { method, metric, value } of outcome.values) {
        columns.cell.push(cell.id);
        for (const axis of axes) columns[axis.path].push(axis.numeric ? (cell.params[axis.path] as number) : formatValue(cell.params[axis.path]));
        columns.method.push(method);
        columns.metric.push(metric);
        columns.seed.push(cell.seeds[s]);
        columns.value.push(value);
      }
    });
  }
  return aq.table(columns);
}

/** One row of the summary: a method's metric in one cell over the seeds, and its paired test against the baseline. */
export interface SummaryRow {
  readonly cell: string;
  readonly label: string;
  readonly params: Record<string, Json>;
  readonly method: string;
  readonly metric: string;
  readonly seeds: number;
  readonly mean: number;
  readonly std: number;
  /** Half-width of the 95% t-interval of the mean over seeds. */
  readonly ci95: number;
  /**
   * Paired two-sided t-test of method − baseline: over the kind's units (e.g. test queries, each
   * averaged over seeds) when it reports them, otherwise over seeds. Absent for the baseline itself.
   */
  readonly vsBaseline: { readonly baseline: string; readonly meanDifference: number; readonly p: number; readonly pairedOver: 'units' | 'seeds'; readonly n: number } | null;
}

export function summariseCells(experiment: Experiment, cells: readonly CellOutcomes[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const baseline = experiment.baseline;
  for (const cell of cells) {
    const valuesOf = (method: string, metric: string) => cell.outcomes.map((o) => o.values.find((v) => v.method === method && v.metric === metric)?.value ?? Number.NaN);
    const unitsOf = (method: string, metric: string) => {
      if (!cell.outcomes.every((o) => o.units?.[method]?.[metric])) return null;
      const perSeed = cell.outcomes.map((o) => o.units![method][metric]);
      return Float64Array.from(perSeed[0], (_, q) => mean(perSeed.map((u) => u[q])));
    };
    const methods = experiment.methods.filter((m) => cell.outcomes[0].values.some((v) => v.method === m));
    for (const method of methods) {
      for (const metric of experiment.metrics) {
        const values = valuesOf(method, metric);
        if (values.some(Number.isNaN)) continue;
        let vsBaseline: SummaryRow['vsBaseline'] = null;
        if (baseline !== null && method !== baseline && methods.includes(baseline)) {
          const a = unitsOf(method, metric);
          const b = unitsOf(baseline, metric);
          const [x, y, pairedOver] = a && b ? [a, b, 'units' as const] : [values, valuesOf(baseline, metric), 'seeds' as const];
          if (x.length >= 2) {
            const test = pairedTTest(x, y);
            vsBaseline = { baseline, meanDifference: test.meanDifference, p: test.p, pairedOver, n: test.n };
          }
        }
        rows.push({
          cell: cell.id,
          label: cell.label,
          params: cell.params,
          method,
          metric,
          seeds: values.length,
          mean: mean(values),
          std: standardDeviation(values),
          ci95: confidenceHalfWidth(values),
          vsBaseline,
        });
      }
    }
  }
  return rows;
}

/** The tidy table as CSV, JSON (an array of row objects) and Parquet. */
export function tidyFormats(table: Table): { csv: string; json: string; parquet: Uint8Array } {
  const names = table.columnNames();
  const columnData = names.map((name) => {
    const data = Array.from(table.array(name) as ArrayLike<string | number>);
    const type = typeof data[0] === 'string' ? ('STRING' as const) : name === 'seed' ? ('INT32' as const) : ('DOUBLE' as const);
    return { name, data, type };
  });
  return {
    csv: `${table.toCSV()}\n`,
    json: `${JSON.stringify(table.objects())}\n`,
    parquet: new Uint8Array(parquetWriteBuffer({ columnData })),
  };
}
