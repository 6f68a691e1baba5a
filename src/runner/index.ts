/**
 * The runner's entry points: load or parse a scenario, run its grid × seeds (resumable, on worker
 * threads), write the tables and reports, compare two runs. Its internals (task files, the tidy
 * table, charts) are not part of the public API.
 */
export { renderSvg } from './charts.js';
export { compareRuns, formatComparison, type ComparedRow, type RunComparison } from './compare-runs.js';
export { writeExperimentReport, type ReportContext } from './experiment-report.js';
export type { SummaryRow } from './experiment-results.js';
export { loadExperiment, loadSingleCell, parseExperiment, SCENARIO_SCHEMA_V2, type Experiment, type ExperimentCell, type ExperimentOverrides } from './experiment.js';
export { runExperiment, type ExperimentRunOptions, type ExperimentRunState } from './run-experiment.js';
