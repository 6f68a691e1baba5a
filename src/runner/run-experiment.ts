import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClickLabError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { formatSeconds, silentProgress, type Progress } from '../core/progress.js';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { assertSameExperiment, experimentFingerprint, type Experiment } from './experiment.js';
import type { CellOutcomes, SeedOutcome } from '../studies/study-kind.js';
import type { Task, TaskWorkerInput, TaskWorkerMessage } from './task-worker.js';
import type { Json } from '../core/validate.js';

export interface ExperimentRunOptions {
  /** The run's folder: run.json, cells/<id>/seed-<n>.json as each finishes, then the tables and reports. */
  readonly outDir: string;
  /** (cell, seed) tasks run on this many worker threads; 1 runs them here. Results do not depend on it. */
  readonly workers?: number;
  readonly backend?: BackendChoice;
  /** Continue a run in `outDir`: tasks already written are read back, not rerun. */
  readonly resume?: boolean;
  readonly progress?: Progress;
  /** Stop after this many tasks, as an interrupted run would (for tests of `resume`). */
  readonly stopAfter?: number;
  /**
   * Run only shard `index` of `count` (1-based): the (cell, seed) tasks whose position in
   * cell-major order is ≡ index − 1 (mod count). Shards may run at once, as separate processes
   * (a batch scheduler's array job), into one folder; a run without a shard (e.g. `--resume`)
   * then finds every result written and assembles the tables.
   */
  readonly shard?: { readonly index: number; readonly count: number };
}

export interface ExperimentRunState {
  /** Every (cell, seed) has its result written. */
  readonly complete: boolean;
  /** Tasks run now, and tasks read back from an earlier, interrupted run. */
  readonly ran: number;
  readonly reused: number;
  readonly wallSeconds: number;
  /** Each cell with its seeds' outcomes, read back from the written files (when complete). */
  readonly cells?: CellOutcomes[];
}

const RUN_FILE = 'run.json';

/** Where the outcome of one (cell, seed) is written. */
export function taskFile(outDir: string, cellId: string, seed: number): string {
  return path.join(outDir, 'cells', cellId, `seed-${seed}.json`);
}

/**
 * Run every cell of an experiment over its seeds. Each finished (cell, seed) is written at once,
 * atomically (temporary file, then rename), so a killed run leaves only whole results behind and
 * `resume` continues from them; since a task's outcome depends only on its cell and seed, a
 * resumed run ends with the same files as an uninterrupted one, whatever the number of workers.
 */
export async function runExperiment(experiment: Experiment, options: ExperimentRunOptions): Promise<ExperimentRunState> {
  const started = performance.now();
  const { outDir } = options;
  const runFile = path.join(outDir, RUN_FILE);
  const runJson = `${JSON.stringify({ schema: 'clicklab/run@1', name: experiment.name, experiment: experimentFingerprint(experiment) }, null, 2)}\n`;
  if (existsSync(runFile)) {
    assertSameExperiment(readRunFile(runFile).experiment, experiment, outDir);
    const written = experiment.cells.some((cell) => experiment.seeds.some((seed) => existsSync(taskFile(outDir, cell.id, seed))));
    // A run that failed before any result was written has nothing to resume: it simply starts
    // again. Shards join the run their siblings started.
    if (!options.resume && !options.shard && written) throw new ClickLabError(`${outDir} already holds a run: pass --resume to continue it, or choose another --out`);
  } else if (existsSync(outDir) && readdirSync(outDir).some((entry) => !isLockOrTemporary(entry))) {
    throw new ClickLabError(`${outDir} is not empty and holds no clicklab run (no ${RUN_FILE}): choose a new or empty folder for --out`);
  }
  mkdirSync(outDir, { recursive: true });
  const releaseLock = lockRun(outDir, options.shard);
  try {
    // Rewritten on resume too: its seeds are the ones the finished run has.
    writeFileAtomic(runFile, runJson);
    return await runTasks(experiment, options, started);
  } finally {
    releaseLock();
  }
}

async function runTasks(experiment: Experiment, options: ExperimentRunOptions, started: number): Promise<ExperimentRunState> {
  const progress = options.progress ?? silentProgress;
  const { outDir } = options;

  const every: Task[] = experiment.cells.flatMap((_, cell) => experiment.seeds.map((seed) => ({ cell, seed })));
  const { shard } = options;
  const all = shard ? every.filter((_, j) => j % shard.count === shard.index - 1) : every;
  const done = (t: Task) => existsSync(taskFile(outDir, experiment.cells[t.cell].id, t.seed));
  // A result file that does not parse (truncated or damaged outside clicklab, which writes them atomically) is not done: that task runs again.
  for (const t of all) {
    const file = taskFile(outDir, experiment.cells[t.cell].id, t.seed);
    if (existsSync(file) && readOutcome(file) === undefined) {
      progress.log(`${file}: not a complete result (unreadable JSON): running that task again`);
      rmSync(file, { force: true });
    }
  }
  const pending = all.filter((t) => !done(t));
  const reused = all.length - pending.length;
  const limit = Math.min(pending.length, options.stopAfter ?? Infinity);
  const kind = experiment.kind;
  const workers = Math.max(1, Math.min(options.workers ?? 1, limit));
  progress.log(
    `${experiment.name}: ${experiment.cells.length} cell${experiment.cells.length > 1 ? 's' : ''} × ${experiment.seeds.length} seeds = ${all.length} runs` +
      (reused > 0 ? ` (${reused} already written, ${pending.length} to go)` : '') +
      `; ${workers} worker${workers > 1 ? 's' : ''}`,
  );
  const unitsOf = (t: Task) => kind.workUnits(experiment.cells[t.cell].spec);
  const totalUnits = pending.slice(0, limit).reduce((s, t) => s + unitsOf(t), 0);
  let units = 0;
  let finished = 0;
  progress.start(`${experiment.name}`, totalUnits);
  const describe = (t: Task) => `${experiment.cells.length > 1 ? `${experiment.cells[t.cell].label}, ` : ''}seed ${t.seed}`;
  const onUnit = (t: Task, detail: string) => progress.update(++units, `${describe(t)}: ${detail}`);
  const onDone = (t: Task, outcome: SeedOutcome) => {
    const file = taskFile(outDir, experiment.cells[t.cell].id, t.seed);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(outcome)}\n`);
    finished++;
  };
  const queue = pending.slice(0, limit);
  if (workers === 1) {
    if (kind.needsBackend && queue.length > 0) await initBackend(options.backend ?? 'auto');
    const cache = new Map<string, unknown>();
    for (const t of queue) onDone(t, await kind.runSeed(experiment.cells[t.cell].spec, t.seed, { cache, onUnit: (d) => onUnit(t, d) }));
  } else {
    await runInWorkers(experiment, queue, workers, options.backend ?? 'auto', onUnit, onDone);
  }
  progress.finish();
  const complete = every.every(done);
  const wallSeconds = (performance.now() - started) / 1000;
  const left = every.filter((t) => !done(t)).length;
  progress.log(
    `${experiment.name}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}: ${finished} run${finished === 1 ? '' : 's'} in ${formatSeconds(wallSeconds)}${complete ? '' : `; ${left} left (--resume continues${shard ? ', or the other shards' : ''})`}`,
  );
  return { complete, ran: finished, reused, wallSeconds, cells: complete ? readCells(experiment, outDir) : undefined };
}

/** Every cell's outcomes as written (seed order), so a resumed run and a fresh one summarise the same numbers. */
export function readCells(experiment: Experiment, outDir: string): CellOutcomes[] {
  return experiment.cells.map((cell) => ({
    id: cell.id,
    params: cell.params,
    label: cell.label,
    spec: cell.spec,
    seeds: experiment.seeds,
    outcomes: experiment.seeds.map((seed) => {
      const file = taskFile(outDir, cell.id, seed);
      const outcome = readOutcome(file);
      if (outcome === undefined) throw new ClickLabError(`${file}: not a complete result (unreadable JSON): run again with --resume to recompute it`);
      return outcome;
    }),
  }));
}

/** A task's result file as written, or undefined where it does not parse as a JSON object. */
function readOutcome(file: string): SeedOutcome | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as SeedOutcome) : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

async function runInWorkers(
  experiment: Experiment,
  queue: Task[],
  workers: number,
  backend: BackendChoice,
  onUnit: (t: Task, detail: string) => void,
  onDone: (t: Task, outcome: SeedOutcome) => void,
): Promise<void> {
  const entry = new URL('./task-worker.js', import.meta.url);
  if (entry.pathname.includes('/src/')) {
    // Under a TypeScript runner (vitest) there is no compiled worker file to start.
    throw new ClickLabError('worker threads need the compiled library (npm run build); run with workers = 1 from TypeScript sources');
  }
  const input: TaskWorkerInput = { study: experiment.study, specs: experiment.cells.map((c) => c.spec), backend: experiment.kind.needsBackend ? backend : null };
  const pending = [...queue];
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(entry, { workerData: input });
      const next = () => {
        const task = pending.shift();
        if (task === undefined) void worker.terminate().then(() => resolve());
        else worker.postMessage(task);
      };
      worker.on('message', (message: TaskWorkerMessage) => {
        switch (message.type) {
          case 'ready':
            next();
            break;
          case 'unit':
            onUnit(message.task, message.detail);
            break;
          case 'done':
            onDone(message.task, message.outcome);
            next();
            break;
          case 'error':
            pending.length = 0; // the other workers finish their current task, so it is written
            void worker.terminate();
            reject(new ClickLabError(message.message));
            break;
        }
      });
      worker.on('error', reject);
    });
  await Promise.all(Array.from({ length: workers }, runWorker));
}

function readRunFile(file: string): { experiment: Json } {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { experiment: Json };
  } catch (error) {
    throw new ClickLabError(`${file}: cannot read the run's description (${error instanceof Error ? error.message : String(error)}); it is not a clicklab run folder, or a damaged one`);
  }
}

/** Lock files and the temporary names of files being written: a folder holding only these holds no run yet. */
function isLockOrTemporary(entry: string): boolean {
  return entry.endsWith('.lock') || (entry.startsWith('.') && entry.endsWith('.tmp'));
}

/**
 * Takes the run folder's lock, so that two processes never do the same work: `run.lock` for a
 * whole run, `shard-i-of-n.lock` for a shard (created exclusively, holding this process's id and
 * host). A whole run also refuses while any shard's lock is live, and a shard while a whole run's
 * is. A lock left by a process on this host that no longer runs (killed) is stale and taken over.
 * Returns the release.
 */
function lockRun(outDir: string, shard: ExperimentRunOptions['shard']): () => void {
  const name = shard ? `shard-${shard.index}-of-${shard.count}.lock` : 'run.lock';
  const lockFile = path.join(outDir, name);
  takeLock(outDir, lockFile);
  const release = () => rmSync(lockFile, { force: true });
  const conflicting = readdirSync(outDir).filter((entry) => entry !== name && entry.endsWith('.lock') && (!shard || entry === 'run.lock'));
  for (const entry of conflicting) {
    const holder = liveHolder(path.join(outDir, entry));
    if (holder) {
      release();
      throw new ClickLabError(`${outDir} is being written by another clicklab run (process ${holder}, ${entry}); wait for it to finish`);
    }
  }
  return release;
}

function takeLock(outDir: string, lockFile: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, `${process.pid} ${hostname()}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = liveHolder(lockFile);
      if (holder) throw new ClickLabError(`${outDir} is being written by another clicklab run (process ${holder}); wait for it to finish, or remove ${lockFile} if that process is gone`);
      rmSync(lockFile, { force: true }); // stale: its process is gone
    }
  }
  throw new ClickLabError(`${outDir}: cannot take the run's lock ${lockFile}`);
}

/** "pid on host" of a lock's live holder, or null where the lock is gone or stale (its process, on this host, has ended). */
function liveHolder(lockFile: string): string | null {
  let text: string;
  try {
    text = readFileSync(lockFile, 'utf8');
  } catch {
    return null;
  }
  const [pid, host] = text.trim().split(' ');
  return host !== hostname() || processRuns(Number(pid)) ? `${pid} on ${host}` : null;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
