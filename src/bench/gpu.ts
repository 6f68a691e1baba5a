import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { ClickLabError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { silentProgress } from '../core/progress.js';
import { randomStream } from '../core/random.js';
import type { RankingData } from '../core/types.js';
import { backendReport, initBackend, type BackendChoice, type BackendStatus } from '../learning/backend.js';
import { clickBatches, type BatchSource } from '../learning/batches.js';
import { ScoringModel } from '../learning/model.js';
import { dlaObjective, ipsObjective, listwiseObjective, type Objective } from '../learning/objectives.js';
import { createTrainingStep } from '../learning/trainer.js';
import { rankByScores } from '../policies/ranking.js';
import { PositionBasedModel } from '../simulation/click-models/pbm.js';
import { examinationProbabilities, relativeToFirst } from '../simulation/examination.js';
import { simulateSessions } from '../simulation/sessions.js';
import { alignColumns } from '../core/text-table.js';

/**
 * Training throughput of the learners on every available TF.js backend, at ULTRA's model size
 * (MLP 512-256-128) and large batches, with wasm as the baseline measured in the same process; and
 * a check that every backend computes the same losses as wasm from the same weights and batches.
 */
export const GPU_LEARNERS = ['naive', 'ips', 'dla'] as const;
export type GpuLearner = (typeof GPU_LEARNERS)[number];

export interface GpuBenchmarkOptions {
  /** Backends to run; wasm (the baseline) is always run first. Default: every available one but cpu. */
  readonly backends?: readonly Exclude<BackendChoice, 'auto'>[];
  /** Queries (lists of 10 documents) per batch. */
  readonly batchSizes: readonly number[];
  readonly hidden: readonly number[];
  readonly numFeatures: number;
  readonly learners: readonly GpuLearner[];
  /** Untimed steps first (shader compilation, allocation); their losses are compared too. */
  readonly warmupSteps: number;
  readonly timedSteps: number;
  /** Largest accepted |loss − wasm's loss| / max(1, |wasm's loss|) over every step. */
  readonly tolerance: number;
  readonly progress?: Progress;
  /** Called with each row as soon as it is measured (to keep partial results of a run cut short). */
  readonly onRow?: (row: GpuBenchmarkRow) => void;
}

/** ULTRA's setting: MLP 512-256-128 on MSLR-sized feature vectors (136), batches of 256 to 8192 queries. */
export const FULL_GPU_BENCHMARK: GpuBenchmarkOptions = {
  batchSizes: [256, 1024, 4096, 8192],
  hidden: [512, 256, 128],
  numFeatures: 136,
  learners: GPU_LEARNERS,
  warmupSteps: 2,
  timedSteps: 5,
  tolerance: 1e-3,
};

/** A reduced run for machines without a GPU (and CI): small batches, few steps. */
export const QUICK_GPU_BENCHMARK: GpuBenchmarkOptions = { ...FULL_GPU_BENCHMARK, batchSizes: [256], warmupSteps: 1, timedSteps: 3 };

export interface GpuBenchmarkRow {
  readonly backend: string;
  readonly learner: GpuLearner;
  readonly batchQueries: number;
  readonly stepsPerSecond: number;
  readonly documentsPerSecond: number;
  /** documentsPerSecond / wasm's for the same learner and batch size. */
  readonly ratioToWasm: number;
  /** Per step, the training loss (warm-up steps included). */
  readonly losses: number[];
  /** max over steps of |loss − wasm's| / max(1, |wasm's|); 0 for wasm itself. */
  readonly maxLossDifference: number;
  readonly lossesAgree: boolean;
  /** tf.memory().numTensors after the cell minus before it (0 unless a tensor leaked). */
  readonly leakedTensors: number;
  /** Why the cell did not run to the end (its figures are then NaN). */
  readonly error?: string;
}

export interface GpuBenchmarkResult {
  readonly startedAt: string;
  readonly host: { readonly cpus: string; readonly cores: number; readonly node: string; readonly platform: string };
  readonly options: Omit<GpuBenchmarkOptions, 'progress' | 'onRow'>;
  readonly backendStatus: BackendStatus[];
  /** The description of each backend that ran (device or adapter). */
  readonly backends: { name: string; description: string }[];
  readonly rows: GpuBenchmarkRow[];
  /** True when every backend's losses agreed with wasm's. */
  readonly allAgree: boolean;
}

const LIST_LENGTH = 10;

export async function runGpuBenchmark(options: GpuBenchmarkOptions): Promise<GpuBenchmarkResult> {
  const startedAt = new Date().toISOString();
  const progress = options.progress ?? silentProgress;
  const backendStatus = await backendReport();
  const wanted = options.backends ?? defaultBackends(backendStatus);
  const order: Exclude<BackendChoice, 'auto'>[] = ['wasm', ...wanted.filter((b) => b !== 'wasm')];
  const source = (batchQueries: number) => clickSource(options.numFeatures, batchQueries);
  const sources = new Map(options.batchSizes.map((b) => [b, source(b)]));
  const rows: GpuBenchmarkRow[] = [];
  const backends: { name: string; description: string }[] = [];
  const cells = order.length * options.learners.length * options.batchSizes.length;
  progress.start('bench:gpu', cells);
  for (const choice of order) {
    const info = await initBackend(choice);
    backends.push({ name: info.name, description: info.description });
    for (const learner of options.learners) {
      for (const batchQueries of options.batchSizes) {
        const baseline = rows.find((r) => r.backend === 'wasm' && r.learner === learner && r.batchQueries === batchQueries);
        try {
          const cell = await timeCell(learner, sources.get(batchQueries)!, batchQueries, options);
          const maxLossDifference = baseline ? Math.max(...cell.losses.map((l, i) => Math.abs(l - baseline.losses[i]) / Math.max(1, Math.abs(baseline.losses[i])))) : 0;
          rows.push({
            backend: info.name,
            learner,
            batchQueries,
            ...cell,
            ratioToWasm: baseline ? cell.documentsPerSecond / baseline.documentsPerSecond : 1,
            maxLossDifference,
            lossesAgree: maxLossDifference <= options.tolerance,
          });
        } catch (error) {
          // One cell failing (a buffer over the adapter's limit, say) must not cost the others.
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          rows.push({
            backend: info.name,
            learner,
            batchQueries,
            stepsPerSecond: NaN,
            documentsPerSecond: NaN,
            ratioToWasm: NaN,
            losses: [],
            maxLossDifference: NaN,
            lossesAgree: false,
            leakedTensors: 0,
            error: message,
          });
        }
        options.onRow?.(rows[rows.length - 1]);
        progress.update(rows.length, `${info.name} ${learner} ${batchQueries}`);
      }
    }
  }
  progress.finish();
  const { progress: _progress, onRow: _onRow, ...recorded } = options;
  return {
    startedAt,
    host: { cpus: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    options: recorded,
    backendStatus,
    backends,
    rows,
    allAgree: rows.every((r) => r.lossesAgree),
  };
}

/** Every available backend but plain-JavaScript cpu (far too slow at this size). */
function defaultBackends(status: BackendStatus[]): Exclude<BackendChoice, 'auto'>[] {
  const available = (name: BackendStatus['backend']) => status.some((s) => s.backend === name && s.available);
  return [...(available('tensorflow (GPU)') || available('tensorflow (CPU)') ? (['tensorflow'] as const) : []), ...(available('webgpu') ? (['webgpu'] as const) : []), 'wasm'];
}

/**
 * Time `timedSteps` training steps after `warmupSteps`, each step read back (`await loss.data()`)
 * as a training loop does. Every backend starts from the same seeded weights and draws the same
 * batches (seeded by learner and batch size); drawing a batch is not timed.
 */
async function timeCell(
  learner: GpuLearner,
  source: BatchSource,
  batchQueries: number,
  options: GpuBenchmarkOptions,
): Promise<Pick<GpuBenchmarkRow, 'stepsPerSecond' | 'documentsPerSecond' | 'losses' | 'leakedTensors'>> {
  const tensorsBefore = tf.memory().numTensors;
  const model = new ScoringModel({ type: 'mlp', hidden: options.hidden }, options.numFeatures, randomStream('gpu-bench-init'));
  const objective = makeObjective(learner);
  const step = createTrainingStep(model, objective, { learningRate: 0.05, clipNorm: 5 });
  const rng = randomStream(`gpu-bench-batches-${learner}-${batchQueries}`);
  const losses: number[] = [];
  let seconds = 0;
  let documents = 0;
  try {
    for (let s = 0; s < options.warmupSteps + options.timedSteps; s++) {
      const batch = source.next(rng);
      const started = performance.now();
      const loss = step.run(batch);
      const value = (await loss.data())[0];
      loss.dispose();
      if (s >= options.warmupSteps) {
        seconds += (performance.now() - started) / 1000;
        documents += batch.numDocuments;
      }
      if (!Number.isFinite(value)) throw new ClickLabError(`bench:gpu: ${learner} on ${tf.getBackend()}, batch ${batchQueries}: the loss became ${value} at step ${s + 1}`);
      losses.push(value);
    }
  } finally {
    step.dispose();
    objective.dispose();
    model.dispose();
  }
  return {
    stepsPerSecond: options.timedSteps / seconds,
    documentsPerSecond: documents / seconds,
    losses,
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}

function makeObjective(learner: GpuLearner): Objective {
  if (learner === 'naive') return listwiseObjective();
  if (learner === 'ips') return ipsObjective(relativeToFirst(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, LIST_LENGTH)));
  return dlaObjective(LIST_LENGTH, { maxRelevanceWeight: 10, propensityLearningRate: 0.2 });
}

/**
 * Synthetic click data: Gaussian features, grades 0–2 from a seeded linear function of them, top-10
 * lists in file order, PBM clicks (eye-tracking profile). 2,000 queries; batches draw sessions
 * with a click uniformly with replacement, so a batch may be larger than the query set.
 */
function clickSource(numFeatures: number, batchQueries: number): BatchSource {
  const rng = randomStream('gpu-bench-data');
  const numQueries = 2000;
  const n = numQueries * LIST_LENGTH;
  const direction = Float32Array.from({ length: numFeatures }, () => rng.normal() / Math.sqrt(numFeatures));
  const features = Float32Array.from({ length: n * numFeatures }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => {
    let z = 0;
    for (let f = 0; f < numFeatures; f++) z += direction[f] * features[i * numFeatures + f];
    return z > 0.7 ? 2 : z > 0 ? 1 : 0;
  });
  const queryOffsets = Int32Array.from({ length: numQueries + 1 }, (_, q) => q * LIST_LENGTH);
  const data: RankingData = { source: 'bench:gpu', numFeatures, features, labels, queryOffsets, qids: Array.from({ length: numQueries }, String), docIds: null };
  const lists = rankByScores(data, new Float32Array(n), LIST_LENGTH);
  const relevance = Float32Array.from(labels, (y) => [0.1, 0.4, 1][y]);
  const clickModel = new PositionBasedModel(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, LIST_LENGTH));
  const { log } = simulateSessions(lists, { numSessions: 20_000, clickModel, relevance, rng: rng.derive('clicks') });
  return clickBatches(data, log, batchQueries);
}

export function formatGpuBenchmark(result: GpuBenchmarkResult): string {
  const header = ['backend', 'learner', 'batch (queries)', 'steps/s', 'documents/s', 'ratio to wasm', 'max loss diff', 'agrees'];
  const rows = result.rows.map((r) => [
    r.backend,
    r.learner,
    String(r.batchQueries),
    r.stepsPerSecond.toFixed(2),
    r.documentsPerSecond.toFixed(0),
    r.ratioToWasm.toFixed(2),
    r.maxLossDifference.toExponential(1),
    r.error ? 'FAILED' : r.lossesAgree ? 'yes' : 'NO',
  ]);
  const failures = result.rows.filter((r) => r.error).map((r) => `\n${r.backend} ${r.learner} ${r.batchQueries}: ${r.error}`);
  const devices = result.backends.map((b) => `${b.name}: ${b.description}`).join('\n');
  return `${devices}\n\n${alignColumns([header, ...rows])}\n\nlosses ${result.allAgree ? 'agree' : 'DO NOT agree'} with wasm (tolerance ${result.options.tolerance} relative)${failures.join('')}`;
}
