import type { Json, JsonObject } from '../core/validate.js';

/**
 * A study kind: what `clicklab run` needs to know to run one sort of experiment (ULTR learners,
 * slate bandits, and later recommender learners, off-policy estimators, click-model fitting).
 * The runner owns everything generic — grid expansion, seeds, worker threads, resumable files,
 * the tidy table, statistics, reports — and asks the kind only to validate a cell and run one seed
 * of it. A new kind is one adapter implementing this interface plus one line in `STUDY_KINDS`.
 */
export interface StudyKind<Spec = unknown> {
  readonly name: string;
  /** One line for error messages and docs. */
  readonly description: string;
  /** The top-level scenario fields this kind reads (besides the common ones: schema, name, description, study, grid, baseline, seeds). */
  readonly fields: readonly string[];
  /** Whether a seed needs a TF.js backend (selected once per worker thread). */
  readonly needsBackend: boolean;
  /**
   * Validate one cell's fields (the scenario with one grid point substituted) and fill defaults.
   * `raw` holds only this kind's fields (the runner has checked that it names no others); errors
   * name `at('field.path')`, i.e. `source: field.path`.
   */
  parse(raw: JsonObject, at: (field: string) => string, source: string): Spec;
  /** Method names in table order, and the metrics each seed reports. */
  methods(spec: Spec): string[];
  metrics(spec: Spec): string[];
  /** The metric the charts and the paired test headline use, and whether higher is better. */
  primaryMetric(spec: Spec): { name: string; higherIsBetter: boolean };
  /** The method the paired tests compare against when the scenario names none (null: none). */
  defaultBaseline(spec: Spec): string | null;
  /** Units of progress in one seed (e.g. models trained); `runSeed` reports each through `onUnit`. */
  workUnits(spec: Spec): number;
  /** Run one seed of one cell. `cache` lives as long as the worker thread (e.g. a loaded data set). */
  runSeed(spec: Spec, seed: number, context: SeedContext): Promise<SeedOutcome>;
  /** Kind-specific charts over all cells (e.g. learned propensities against the truth, regret curves). */
  charts?(cells: readonly CellOutcomes<Spec>[]): ChartRequest[];
  /** Kind-specific tables for the reports (e.g. the propensities behind a chart, in numbers). */
  tables?(cells: readonly CellOutcomes<Spec>[]): TableRequest[];
}

/** A table a kind adds to the reports: a header row, then rows of text cells. */
export interface TableRequest {
  readonly title: string;
  readonly caption: string;
  readonly rows: readonly (readonly string[])[];
}

export interface SeedContext {
  readonly cache: Map<string, unknown>;
  readonly onUnit: (detail: string) => void;
}

/** What one seed of one cell produced. Everything is plain JSON, so it can be written and read back exactly. */
export interface SeedOutcome {
  /** One value per method and metric. */
  readonly values: readonly { readonly method: string; readonly metric: string; readonly value: number }[];
  /**
   * Per-unit values (e.g. per test query) behind a method's metric, for paired tests over units
   * (each unit averaged over seeds); without them paired tests pair the seeds.
   */
  readonly units?: Record<string, Record<string, number[]>>;
  /** Kind-specific results for its charts and reports (propensities, curves). */
  readonly extras?: { [key: string]: Json };
}

/** One cell of the grid with every seed's outcome, in seed order. */
export interface CellOutcomes<Spec = unknown> {
  readonly id: string;
  /** Grid path → value of this cell (empty without a grid). */
  readonly params: Record<string, Json>;
  readonly label: string;
  readonly spec: Spec;
  readonly seeds: readonly number[];
  readonly outcomes: readonly SeedOutcome[];
}

/** A chart a kind asks for: a vega-lite spec (without data size or theme) and a caption. */
export interface ChartRequest {
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: Record<string, unknown>;
}
