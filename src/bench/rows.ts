import { alignColumns } from '../core/text-table.js';

/**
 * Throughput benchmarks. Every group has a baseline measured in the same process, and rows are
 * reported as ratios to it, because absolute numbers on a shared machine are noisy.
 */
export interface BenchmarkRow {
  readonly group: string;
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  /** value / the group's baseline value. */
  readonly ratio: number;
}

/**
 * The rows in the customary format of benchmark trackers (`bench-results.json`): name, unit,
 * value, and the baseline and ratio where a row has one.
 */
export function benchmarkRecords(rows: BenchmarkRow[]): { name: string; unit: string; value: number; baseline?: string; ratio?: number }[] {
  const baselines = new Map<string, string>();
  for (const r of rows) if (!baselines.has(r.group)) baselines.set(r.group, r.name);
  return rows.map((r) => {
    const name = `${r.group}: ${r.name}`;
    const baseline = baselines.get(r.group)!;
    return baseline === r.name ? { name, unit: r.unit, value: r.value } : { name, unit: r.unit, value: r.value, baseline: `${r.group}: ${baseline}`, ratio: r.ratio };
  });
}

export function formatBenchmarks(rows: BenchmarkRow[]): string {
  return alignColumns([
    ['group', 'benchmark', 'throughput', 'unit', 'ratio to baseline'],
    ...rows.map((r) => [r.group, r.name, r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(1), r.unit, r.ratio.toFixed(2)]),
  ]);
}

/** A group's rows with their ratios to its first (the baseline). */
export function withRatios(group: string, unit: string, measured: [string, number][]): BenchmarkRow[] {
  const baseline = measured[0][1];
  return measured.map(([name, value]) => ({ group, name, unit, value, ratio: value / baseline }));
}
