import { ClickLabError, ConfigError } from '../core/errors.js';
import { nearest } from '../core/suggest.js';
import { SCENARIO_SCHEMA } from '../studies/ultr/scenario.js';
import type { StudyKind } from '../studies/study-kind.js';
import { STUDY_KINDS } from '../studies/registry.js';
import { array, checkKeys, integer, object, readJsonFile, string, type Json, type JsonObject } from '../core/validate.js';

/**
 * Scenario schema v2 (docs/scenarios.md): a study kind, its fields, seeds, and a grid of values
 * for any field by path. Version 1 files (`clicklab/scenario@1`, the ULTR protocol without a grid)
 * are read as v2 studies of kind "ultr".
 */
export const SCENARIO_SCHEMA_V2 = 'clicklab/scenario@2';
const COMMON_FIELDS = ['$comment', 'schema', 'name', 'description', 'study', 'grid', 'baseline', 'seeds'] as const;

/** One point of the grid: the scenario with each grid path set to one of its values. */
export interface ExperimentCell {
  /** Stable id (`c1`, `c2`, … in grid order), the name of its results folder. */
  readonly id: string;
  /** Grid path → value. */
  readonly params: Record<string, Json>;
  /** Short human label, e.g. `eta=0.5, sessions=2000` (`default` without a grid). */
  readonly label: string;
  /** The kind's fields with this cell's values substituted (what `spec` was parsed from). */
  readonly raw: JsonObject;
  readonly spec: unknown;
}

export interface Experiment {
  readonly name: string;
  readonly description: string;
  readonly study: string;
  readonly kind: StudyKind;
  /** Grid axes in file order; cells vary the last axis fastest. */
  readonly grid: readonly { readonly path: string; readonly values: readonly Json[] }[];
  readonly cells: readonly ExperimentCell[];
  readonly seeds: readonly number[];
  /** The method paired tests compare against (null: no paired tests). */
  readonly baseline: string | null;
  /** Methods and metrics over all cells, in first-seen order. */
  readonly methods: readonly string[];
  readonly metrics: readonly string[];
  readonly primaryMetric: { readonly name: string; readonly higherIsBetter: boolean };
}

/** Command-line overrides, applied to the file before validation. */
export interface ExperimentOverrides {
  readonly seeds?: readonly number[];
  /** ULTR studies: a shipped data set by name, and its fold. */
  readonly dataset?: string;
  readonly fold?: number;
}

export function loadExperiment(file: string, overrides: ExperimentOverrides = {}): Experiment {
  return parseExperiment(applyOverrides(readJsonFile(file, 'scenario'), overrides, file), file);
}

/**
 * The one setting of a scenario file for commands that take a single cell (e.g. `clicklab train
 * --scenario`): a version 1 file, or a version 2 study of kind `study` without a grid.
 */
export function loadSingleCell(file: string, study: string, command: string, overrides: ExperimentOverrides = {}): unknown {
  const experiment = loadExperiment(file, overrides);
  if (experiment.study !== study) throw new ConfigError(`${file}: study`, `${command} takes a "${study}" study, found "${experiment.study}"`);
  if (experiment.cells.length !== 1) {
    throw new ConfigError(
      `${file}: grid`,
      `${command} takes one setting, this scenario has ${experiment.cells.length} grid cells (${experiment.cells.map((c) => c.label).join('; ')}): write one cell's values into a scenario without a grid`,
    );
  }
  return experiment.cells[0].spec;
}

function applyOverrides(raw: Json, overrides: ExperimentOverrides, source: string): Json {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const result: JsonObject = { ...raw };
  if (overrides.seeds && overrides.seeds.length > 0) result.seeds = [...overrides.seeds];
  if (overrides.dataset !== undefined || overrides.fold !== undefined) {
    if ((raw.study ?? 'ultr') !== 'ultr') throw new ConfigError(`${source}: study`, '--dataset and --fold apply to ULTR studies only');
    const dataset: JsonObject = overrides.dataset !== undefined ? { name: overrides.dataset } : { ...((raw.dataset as JsonObject | undefined) ?? { name: 'mq2008' }) };
    if (overrides.fold !== undefined) dataset.fold = overrides.fold;
    result.dataset = dataset;
  }
  return result;
}

/** Validate a whole scenario — every grid cell — before any work starts; errors name the field path. */
export function parseExperiment(input: unknown, source = 'scenario'): Experiment {
  const root = object(input as Json, source);
  const at = (field: string) => `${source}: ${field}`;
  const schema = root.schema ?? SCENARIO_SCHEMA;
  if (schema !== SCENARIO_SCHEMA && schema !== SCENARIO_SCHEMA_V2) {
    throw new ConfigError(at('schema'), `expected "${SCENARIO_SCHEMA_V2}" (or "${SCENARIO_SCHEMA}"), found ${JSON.stringify(schema)}`);
  }
  const v1 = schema === SCENARIO_SCHEMA;
  const studyName = v1 ? 'ultr' : string(root.study ?? 'ultr', at('study'));
  const kind = STUDY_KINDS[studyName];
  if (!kind) {
    const names = Object.keys(STUDY_KINDS);
    const hint = nearest(studyName, names);
    throw new ConfigError(at('study'), `expected one of ${names.map((n) => `"${n}"`).join(', ')}, found "${studyName}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
  const allowed = v1 ? COMMON_FIELDS.filter((f) => f !== 'study' && f !== 'grid' && f !== 'baseline') : COMMON_FIELDS;
  checkKeys(root, [...allowed, ...kind.fields], source);

  const name = string(root.name, at('name'));
  if (!/^[\w.-]+$/.test(name)) throw new ConfigError(at('name'), `expected letters, digits, '-', '_' or '.', found ${JSON.stringify(name)} (it names the output folder)`);
  const seeds = array(root.seeds ?? [1, 2, 3], at('seeds')).map((s, i) => integer(s, at(`seeds[${i}]`), undefined, 0));
  if (seeds.length === 0) throw new ConfigError(at('seeds'), 'expected at least one seed');
  if (new Set(seeds).size !== seeds.length) throw new ConfigError(at('seeds'), `seeds must be distinct, found ${JSON.stringify(seeds)}`);

  const base: JsonObject = {};
  for (const field of kind.fields) if (root[field] !== undefined) base[field] = root[field];
  const grid = Object.entries(object(root.grid ?? {}, at('grid'))).map(([path, values]) => {
    const where = at(`grid["${path}"]`);
    const first = path.split(/[.[]/)[0];
    if (!kind.fields.includes(first)) {
      const hint = nearest(first, kind.fields);
      throw new ConfigError(
        where,
        `a grid path starts with a field of a "${studyName}" study${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${kind.fields.join(', ')}${first === 'seeds' ? ' (seeds are not a grid axis: every cell runs every seed)' : ''}`,
      );
    }
    const list = array(values, where);
    if (list.length === 0) throw new ConfigError(where, 'expected at least one value');
    const keys = list.map((v) => JSON.stringify(v));
    const twice = keys.findIndex((k, i) => keys.indexOf(k) !== i);
    if (twice >= 0) throw new ConfigError(`${where}[${twice}]`, `the value ${keys[twice]} is listed twice`);
    // Each value on its own first, so an error names the one grid entry that caused it.
    list.forEach((value, i) => {
      parseCell(kind, setPath(base, path, value, `${where}[${i}]`), `${where}[${i}]`, source);
    });
    return { path, values: list };
  });

  const shortNames = shortPathNames(grid.map((g) => g.path));
  const points = grid.reduce<Record<string, Json>[]>((acc, axis) => acc.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.path]: v }))), [{}]);
  const width = String(points.length).length;
  const cells = points.map((params, i) => {
    const label = grid.length === 0 ? 'default' : grid.map((g, j) => `${shortNames[j]}=${formatValue(params[g.path])}`).join(', ');
    let raw = base;
    for (const g of grid) raw = setPath(raw, g.path, params[g.path], at(`grid["${g.path}"]`));
    // Without a grid the one cell is the file itself: its errors name the field, not a grid cell.
    const spec = parseCell(kind, raw, grid.length === 0 ? source : `${at('grid')} (cell ${label})`, source);
    return { id: `c${String(i + 1).padStart(width, '0')}`, params, label, raw, spec };
  });

  const methods = [...new Set(cells.flatMap((c) => kind.methods(c.spec)))];
  const metrics = [...new Set(cells.flatMap((c) => kind.metrics(c.spec)))];
  let baseline: string | null;
  if (root.baseline === undefined || root.baseline === null) {
    baseline = kind.defaultBaseline(cells[0].spec);
  } else {
    baseline = string(root.baseline, at('baseline'));
    for (const cell of cells) {
      const names = kind.methods(cell.spec);
      if (!names.includes(baseline)) {
        const hint = nearest(baseline, names);
        throw new ConfigError(
          at('baseline'),
          `expected a method of ${cells.length > 1 ? `every cell (cell ${cell.label} has ` : '('}${names.join(', ')}), found "${baseline}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        );
      }
    }
  }
  return {
    name,
    description: root.description === undefined ? '' : string(root.description, at('description')),
    study: studyName,
    kind,
    grid,
    cells,
    seeds,
    baseline,
    methods,
    metrics,
    primaryMetric: kind.primaryMetric(cells[0].spec),
  };
}

function parseCell(kind: StudyKind, raw: JsonObject, where: string, source: string): unknown {
  try {
    return kind.parse(raw, (field) => `${source}: ${field}`, source);
  } catch (error) {
    if (error instanceof ConfigError && where.startsWith(`${source}: grid`)) throw new ConfigError(where, `with this value, ${error.path.replace(`${source}: `, '')}: ${error.problem}`);
    throw error;
  }
}

/**
 * A copy of `raw` with the field at `path` (`a.b`, `a[2].b`) set to `value`. Missing objects on the
 * way are created (their defaults apply); a list entry written as a name (`"ips"`) becomes
 * `{"type": "ips"}` when a field below it is set.
 */
export function setPath(raw: JsonObject, path: string, value: Json, where: string): JsonObject {
  const segments: (string | number)[] = [];
  const pattern = /(?:^|\.)([A-Za-z_$][\w$-]*)|\[(\d+)\]/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = pattern.exec(path)) !== null) {
    segments.push(match[1] !== undefined ? match[1] : Number(match[2]));
    end = pattern.lastIndex;
  }
  if (segments.length === 0 || end !== path.length) throw new ConfigError(where, `expected a path like "clickModel.eta" or "learners[2].maxWeight", found "${path}"`);
  const assign = (node: Json | undefined, i: number): Json => {
    if (i === segments.length) return value;
    const segment = segments[i];
    const shown = segments
      .slice(0, i)
      .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
      .join('')
      .replace(/^\./, '');
    if (typeof segment === 'number') {
      if (!Array.isArray(node) || segment >= node.length) {
        throw new ConfigError(where, `"${shown}" ${Array.isArray(node) ? `has ${node.length} entries, so index ${segment} does not exist` : 'is not a list in the scenario'}`);
      }
      const copy = [...node];
      copy[segment] = assign(copy[segment], i + 1);
      return copy;
    }
    if (typeof node === 'string' && i > 0 && typeof segments[i - 1] === 'number') node = { type: node };
    if (node === undefined || node === null) node = {};
    if (typeof node !== 'object' || Array.isArray(node)) throw new ConfigError(where, `"${shown}" is ${JSON.stringify(node)}, not an object with field "${segment}"`);
    return { ...node, [segment]: assign(node[segment], i + 1) };
  };
  return assign(raw, 0) as JsonObject;
}

/** The last path segment names a grid axis unless two axes share it. */
function shortPathNames(paths: string[]): string[] {
  const last = paths.map((p) => p.split('.').pop()!);
  return paths.map((p, i) => (last.filter((l) => l === last[i]).length > 1 ? p : last[i]));
}

export function formatValue(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The identity of an experiment's work: what must match for `--resume` to reuse written results. */
export function experimentFingerprint(experiment: Experiment): Json {
  return {
    study: experiment.study,
    seeds: [...experiment.seeds],
    cells: experiment.cells.map((c) => ({ id: c.id, params: c.params, raw: c.raw })),
  };
}

/**
 * Whether a written run (its `run.json` fingerprint) is of this experiment. The seeds may differ:
 * `--resume` with more seeds adds them (each (cell, seed) result depends only on its cell and seed).
 */
export function assertSameExperiment(written: Json, experiment: Experiment, outDir: string): void {
  const { seeds: _written, ...work } = written as Record<string, Json>;
  const { seeds: _now, ...expected } = experimentFingerprint(experiment) as Record<string, Json>;
  if (JSON.stringify(work) !== JSON.stringify(expected)) {
    throw new ClickLabError(`${outDir} holds a run of a different scenario (its study, grid or fields differ); resume it with the scenario it started with, or choose another --out`);
  }
}
