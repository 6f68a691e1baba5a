import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ClickLabError, ConfigError, DataFormatError } from '../core/errors.js';
import { mean, standardDeviation, studentTCdf } from '../evaluation/statistics.js';
import type { SummaryRow } from './experiment-results.js';
import { formatP } from '../core/text-table.js';

/** One matched (cell parameters, method, metric) of two runs. */
export interface ComparedRow {
  readonly params: Record<string, unknown>;
  readonly method: string;
  readonly metric: string;
  readonly a: { mean: number; ci95: number; seeds: number };
  readonly b: { mean: number; ci95: number; seeds: number };
  /** b − a, and Welch's two-sided t-test over the two runs' per-seed values (independent runs). */
  readonly difference: number;
  readonly p: number | null;
}

export interface RunComparison {
  readonly rows: ComparedRow[];
  /** (cell, method, metric) present in one run only. */
  readonly onlyInA: number;
  readonly onlyInB: number;
}

interface LoadedRun {
  readonly summary: SummaryRow[];
  /** `cell|method|metric` → per-seed values. */
  readonly perSeed: Map<string, number[]>;
}

function loadRun(dir: string): LoadedRun {
  const summaryFile = path.join(dir, 'summary.json');
  const resultsFile = path.join(dir, 'results.json');
  if (!existsSync(summaryFile) || !existsSync(resultsFile))
    throw new ClickLabError(`${dir}: not a finished run (expected summary.json and results.json; an interrupted run needs clicklab run --resume first)`);
  const summary = readJsonArray(summaryFile) as SummaryRow[];
  const perSeed = new Map<string, number[]>();
  for (const row of readJsonArray(resultsFile) as { cell: string; method: string; metric: string; value: number }[]) {
    const key = `${row.cell}|${row.method}|${row.metric}`;
    if (!perSeed.has(key)) perSeed.set(key, []);
    perSeed.get(key)!.push(row.value);
  }
  return { summary, perSeed };
}

/** A run's JSON table (an array of rows), or an error naming the file. */
function readJsonArray(file: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DataFormatError(file, null, `expected the JSON table clicklab run writes, found invalid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(value)) throw new DataFormatError(file, null, 'expected the JSON table clicklab run writes (an array of rows)');
  return value;
}

/** Canonical text of a cell's parameters (keys sorted), which is how cells of two runs are matched. */
function paramsKey(params: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
}

/** Match two runs' cells (by grid parameters), methods and metrics, and compare their means. */
export function compareRuns(dirA: string, dirB: string, metrics?: readonly string[]): RunComparison {
  const a = loadRun(dirA);
  const b = loadRun(dirB);
  for (const metric of metrics ?? []) {
    if (!a.summary.some((r) => r.metric === metric) && !b.summary.some((r) => r.metric === metric)) {
      const known = [...new Set([...a.summary, ...b.summary].map((r) => r.metric))];
      throw new ConfigError('--metric', `"${metric}" is in neither run; their metrics: ${known.join(', ')}`);
    }
  }
  const keep = (r: SummaryRow) => !metrics || metrics.length === 0 || metrics.includes(r.metric);
  const key = (r: SummaryRow) => `${paramsKey(r.params)}|${r.method}|${r.metric}`;
  const inB = new Map(b.summary.filter(keep).map((r) => [key(r), r]));
  const rows: ComparedRow[] = [];
  let onlyInA = 0;
  for (const ra of a.summary.filter(keep)) {
    const rb = inB.get(key(ra));
    if (!rb) {
      onlyInA++;
      continue;
    }
    inB.delete(key(ra));
    const xa = a.perSeed.get(`${ra.cell}|${ra.method}|${ra.metric}`) ?? [];
    const xb = b.perSeed.get(`${rb.cell}|${rb.method}|${rb.metric}`) ?? [];
    rows.push({
      params: ra.params,
      method: ra.method,
      metric: ra.metric,
      a: { mean: ra.mean, ci95: ra.ci95, seeds: ra.seeds },
      b: { mean: rb.mean, ci95: rb.ci95, seeds: rb.seeds },
      difference: rb.mean - ra.mean,
      p: welchP(xa, xb),
    });
  }
  return { rows, onlyInA, onlyInB: inB.size };
}

/**
 * Welch's t-test: t = (m_b − m_a)/√(s_a²/n_a + s_b²/n_b) with the Welch–Satterthwaite degrees of
 * freedom; null with fewer than two seeds on a side. Equal values on both sides give p = 1.
 */
export function welchP(a: readonly number[], b: readonly number[]): number | null {
  if (a.length < 2 || b.length < 2) return null;
  const va = standardDeviation(a) ** 2 / a.length;
  const vb = standardDeviation(b) ** 2 / b.length;
  const d = mean(b) - mean(a);
  if (va + vb === 0) return d === 0 ? 1 : 0;
  const t = d / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return 2 * (1 - studentTCdf(Math.abs(t), df));
}

export function formatComparison(comparison: RunComparison, labelA = 'A', labelB = 'B'): string[][] {
  const axes = [...new Set(comparison.rows.flatMap((r) => Object.keys(r.params)))];
  const number = (x: number, scale: number) => (Math.abs(scale) >= 10 ? x.toFixed(1) : x.toFixed(4));
  return [
    [...axes, 'method', 'metric', `${labelA} (±95%)`, `${labelB} (±95%)`, `${labelB} − ${labelA}`, 'Welch p'],
    ...comparison.rows.map((r) => [
      ...axes.map((k) => (r.params[k] === undefined ? '' : typeof r.params[k] === 'string' ? (r.params[k] as string) : JSON.stringify(r.params[k]))),
      r.method,
      r.metric,
      `${number(r.a.mean, r.a.mean)} ± ${number(r.a.ci95, r.a.mean)}`,
      `${number(r.b.mean, r.a.mean)} ± ${number(r.b.ci95, r.a.mean)}`,
      `${r.difference >= 0 ? '+' : ''}${number(r.difference, r.a.mean)}`,
      r.p === null ? '' : formatP(r.p),
    ]),
  ];
}
