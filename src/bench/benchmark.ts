import * as tf from '@tensorflow/tfjs';
import { randomStream } from '../core/random.js';
import type { RankingData } from '../core/types.js';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readClickLog, writeClickLog } from '../data/click-log-io.js';
import { readLetorFileSync } from '../data/letor.js';
import { clickBatches, type BatchSource } from '../learning/batches.js';
import { ScoringModel, type Scorer } from '../learning/model.js';
import { dlaObjective, ipsObjective, listwiseObjective, type Objective } from '../learning/objectives.js';
import { train } from '../learning/trainer.js';
import { rankByScores } from '../policies/ranking.js';
import { PositionBasedModel } from '../simulation/click-models/pbm.js';
import { createClickModel } from '../simulation/click-models/index.js';
import { examinationProbabilities, relativeToFirst } from '../simulation/examination.js';
import { simulateSessions } from '../simulation/sessions.js';
import { createPolicy } from '../policies/bandits/factory.js';
import { runOnline } from '../policies/online.js';
import { coldStartRows } from './cold-start.js';
import { opeBenchmarkRows } from './ope.js';
import { recommenderTrainingRows } from './recommender.js';
import { gruSlateRows } from './slates.js';
import { fittingRows } from './fitting.js';
import { withRatios, type BenchmarkRow } from './rows.js';
import { realLogReadingRows } from './real-logs.js';
import { baiduReadingRows } from './baidu-reading.js';
import { finnReadingRows } from './finn-reading.js';
import { ultrLearnerRows } from './ultr.js';
import { fileOrderLists, simulateSearchLog, type SearchLogSpec } from '../simulation/search-log/simulate.js';

export interface BenchmarkOptions {
  /** Training steps timed per learner (after a warm-up of a tenth of them). */
  readonly steps: number;
  /** Sessions simulated for the simulation row. */
  readonly sessions: number;
  /** A LETOR file to parse for the reader row (plain or gzip), e.g. a shipped MQ2008 part. */
  readonly letorFile?: string;
}

export async function runBenchmarks(options: BenchmarkOptions): Promise<BenchmarkRow[]> {
  return [
    ...trainingRows(options.steps),
    ...recommenderTrainingRows(options.steps),
    ...(await gruSlateRows(options.steps)),
    ...ultrLearnerRows(options.steps),
    ...simulationRows(options.sessions),
    ...coldStartRows(Math.min(options.sessions, 200_000)),
    ...(await parallelSimulationRows(16 * options.sessions)),
    ...(await clickLogRows(Math.min(options.sessions, 200_000))),
    ...(await realLogReadingRows(Math.min(options.sessions, 100_000))),
    ...(await baiduReadingRows(Math.min(options.sessions, 100_000))),
    ...(await finnReadingRows(200_000)),
    ...banditRows(Math.max(1000, Math.round(options.sessions / 20))),
    ...fittingRows(options.sessions),
    ...(options.letorFile ? readerRows(options.letorFile) : []),
    ...opeBenchmarkRows(),
  ];
}

/** Runs of each simulation row; the best is reported. */
const REPEATS = 3;

/** Random features, grades from the first feature, top-10 lists in file order, PBM clicks. */
function syntheticClicks(numQueries: number, numFeatures: number): { data: RankingData; source: BatchSource } {
  const rng = randomStream('bench');
  const n = numQueries * 10;
  const features = Float32Array.from({ length: n * numFeatures }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => (features[i * numFeatures] > 0.5 ? 2 : features[i * numFeatures] > -0.5 ? 1 : 0));
  const queryOffsets = Int32Array.from({ length: numQueries + 1 }, (_, q) => q * 10);
  const data: RankingData = { source: 'benchmark', numFeatures, features, labels, queryOffsets, qids: Array.from({ length: numQueries }, String), docIds: null };
  const lists = rankByScores(data, new Float32Array(n), 10);
  const relevance = Float32Array.from(labels, (y) => [0.1, 0.4, 1][y]);
  const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
  const { log } = simulateSessions(lists, { numSessions: 50_000, clickModel: new PositionBasedModel(examination), relevance, rng: rng.derive('clicks') });
  return { data, source: clickBatches(data, log, 256) };
}

/**
 * The same MLP as ScoringModel, written with plain TF.js ops so that training uses TF.js's own
 * gradients: the baseline for ScoringModel's hand-written dense gradient.
 */
function autodiffScorer(model: ScoringModel): Scorer {
  return {
    numFeatures: model.numFeatures,
    variables: model.variables,
    score: (features) =>
      tf.tidy(() => {
        let h: tf.Tensor2D = features;
        for (let l = 0; l < model.variables.length; l += 2) {
          h = tf.add(tf.matMul(h, model.variables[l] as tf.Tensor2D), model.variables[l + 1]);
          if (l + 2 < model.variables.length) h = tf.elu(h);
        }
        return tf.reshape(h, [-1]) as tf.Tensor1D;
      }),
    snapshot: () => model.snapshot(),
    restore: (weights) => model.restore(weights),
  };
}

/** Documents per second of a training step, batch 256 lists × 10 documents × 46 features, MLP 64-32. */
function trainingRows(steps: number): BenchmarkRow[] {
  const { data, source } = syntheticClicks(2000, 46);
  const propensities = relativeToFirst(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10));
  const learners: [string, () => Objective, (m: ScoringModel) => Scorer][] = [
    ['naive (listwise softmax)', listwiseObjective, (m) => m],
    ['ips', () => ipsObjective(propensities), (m) => m],
    ['clipped-ips@5', () => ipsObjective(propensities, 5), (m) => m],
    ['dla', () => dlaObjective(10), (m) => m],
    ['naive, TF.js autodiff dense', listwiseObjective, autodiffScorer],
  ];
  const measured = learners.map(([name, makeObjective, wrap]): [string, number] => {
    const model = new ScoringModel({ type: 'mlp', hidden: [64, 32] }, data.numFeatures, randomStream('init'));
    const objective = makeObjective();
    const options = { learningRate: 0.05, clipNorm: 5, evalEvery: steps, rng: randomStream('batches') };
    train(wrap(model), objective, source, { ...options, steps: Math.max(1, Math.round(steps / 10)) });
    const started = performance.now();
    train(wrap(model), objective, source, { ...options, steps });
    const seconds = (performance.now() - started) / 1000;
    model.dispose();
    objective.dispose();
    return [name, (steps * 256 * 10) / seconds];
  });
  return withRatios(`training (${tf.getBackend()})`, 'documents/s', measured);
}

/**
 * PBM top-10 sessions in memory (new arrays every run, as a caller gets them), best of REPEATS
 * runs each. The baseline is the straightforward loop a port of a Python simulator would be: one
 * object per session and per result, two draws per result.
 */
function simulationRows(sessions: number): BenchmarkRow[] {
  const rng = randomStream('sim');
  const lists = { offsets: Int32Array.from({ length: 1001 }, (_, q) => q * 10), documents: Int32Array.from({ length: 10_000 }, (_, i) => i) };
  const relevance = Float32Array.from({ length: 10_000 }, () => rng.uniform());
  const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
  const clickModel = new PositionBasedModel(examination);
  // Sessions per second of wall time, and per second of this process's CPU time (which other
  // programs on a busy machine do not inflate as much: it leaves out the time spent waiting for a core).
  const rate = (run: () => void): [number, number] => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    run();
    const { user, system } = process.cpuUsage(cpu);
    return [sessions / ((performance.now() - started) / 1000), sessions / ((user + system) / 1e6)];
  };
  const max = (a: [number, number], b: [number, number]): [number, number] => [Math.max(a[0], b[0]), Math.max(a[1], b[1])];
  let bytesPerResult = 0;
  const columnar = (intervention: 'none' | 'shuffle', truth: boolean) => () => {
    const { log, truth: hidden } = simulateSessions(lists, { numSessions: sessions, clickModel, relevance, rng: rng.derive(intervention, String(truth)), intervention, truth });
    const arrays = [log.sessionQuery, log.sessionOffsets, log.document, log.position, log.click, ...(hidden ? [hidden.examinationProbability, hidden.relevanceProbability, hidden.examined] : [])];
    bytesPerResult = arrays.reduce((sum, a) => sum + a.byteLength, 0) / log.document.length;
  };
  const perSession = () => {
    const draw = rng.derive('objects');
    const log: { query: number; results: { document: number; examined: boolean; clicked: boolean }[] }[] = [];
    for (let s = 0; s < sessions; s++) {
      const query = draw.int(1000);
      const results = [];
      for (let k = 0; k < 10; k++) {
        const document = lists.documents[lists.offsets[query] + k];
        const examined = draw.uniform() < examination[k];
        results.push({ document, examined, clicked: examined && draw.uniform() < relevance[document] });
      }
      log.push({ query, results });
    }
  };
  // Best of REPEATS (the machine is shared: the best run is the one least disturbed), the
  // columnar rows taking turns. The baseline runs last: the garbage its million objects leave
  // behind would slow whatever ran next.
  let lean: [number, number] = [0, 0];
  let full: [number, number] = [0, 0];
  let shuffled: [number, number] = [0, 0];
  let leanBytes = 0;
  let fullBytes = 0;
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    lean = max(lean, rate(columnar('none', false)));
    leanBytes = bytesPerResult;
    full = max(full, rate(columnar('none', true)));
    fullBytes = bytesPerResult;
    shuffled = max(shuffled, rate(columnar('shuffle', false)));
  }
  let baseline: [number, number] = [0, 0];
  for (let repeat = 0; repeat < REPEATS; repeat++) baseline = max(baseline, rate(perSession));
  const rows = (time: 0 | 1): [string, number][] => [
    ['per-session objects (baseline)', baseline[time]],
    ['columnar', lean[time]],
    ['columnar, with hidden truth', full[time]],
    ['columnar, shuffled (RandTop-10)', shuffled[time]],
  ];
  return [
    ...withRatios('simulation (PBM, top 10, one core)', 'sessions/s', rows(0)),
    ...withRatios('simulation (PBM, top 10, one core), CPU time', 'sessions/CPU-s', rows(1)),
    ...withRatios('click log in memory', 'bytes/result', [
      ['without truth', leanBytes],
      ['with hidden truth', fullBytes],
    ]),
  ];
}

/**
 * Sessions per second of `simulateSearchLog` (PBM, top 10, file order) into a sink that drops every
 * chunk (and releases it), with workers = 1 (this thread) and 2 (this thread and a worker thread):
 * what the worker gains, including its start-up, the hand-over of its chunks (in shared memory) and
 * putting the chunks back in order. (scripts/parallel-sim-bench.mjs adds this thread's own CPU time.) Run on 16× the sessions of the simulation row: starting a
 * worker and warming up its JIT costs tens of milliseconds, a large part of a run of 1M sessions.
 */
async function parallelSimulationRows(sessions: number): Promise<BenchmarkRow[]> {
  const rng = randomStream('parallel');
  const numQueries = 1000;
  const labels = Int32Array.from({ length: numQueries * 10 }, () => rng.int(3));
  const data: RankingData = {
    source: 'benchmark',
    numFeatures: 1,
    features: new Float32Array(labels.length),
    labels,
    queryOffsets: Int32Array.from({ length: numQueries + 1 }, (_, q) => q * 10),
    qids: Array.from({ length: numQueries }, String),
    docIds: null,
  };
  const clickModelSpec = { type: 'pbm' } as const;
  const spec: SearchLogSpec = {
    lists: fileOrderLists(data, 10),
    cutoff: 10,
    intervention: 'none',
    relevance: Float64Array.of(0.1, 0.4, 1),
    clickModel: createClickModel(clickModelSpec, 10),
    clickModelSpec,
    sessions,
  };
  // Sessions per second of wall time, and per second of CPU time (all threads of the process).
  const time = async (workers: number): Promise<[number, number]> => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    await simulateSearchLog(data, spec, rng, () => {}, { workers, releaseChunks: true });
    const { user, system } = process.cpuUsage(cpu);
    return [sessions / ((performance.now() - started) / 1000), sessions / ((user + system) / 1e6)];
  };
  // Best of REPEATS, taking turns, so that both see the same spells of load from elsewhere.
  const best = [
    [0, 0],
    [0, 0],
  ];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const workers of [1, 2]) {
      const [wall, cpu] = await time(workers);
      best[workers - 1] = [Math.max(best[workers - 1][0], wall), Math.max(best[workers - 1][1], cpu)];
    }
  }
  // On a busy machine the wall-time ratio says little: Linux shares the CPU between process groups
  // (autogroup), so a second thread gains nothing while other programs keep both cores busy. The
  // CPU-time ratio is what the second thread costs in start-up and hand-over (2 × it is the
  // speed-up on 2 free cores).
  const group = `simulateSearchLog (PBM, top 10, ${sessions} sessions)`;
  return [
    ...withRatios(group, 'sessions/s', [
      ['1 worker (this thread)', best[0][0]],
      ['2 workers (this thread and a worker thread)', best[1][0]],
    ]),
    ...withRatios(`${group}, CPU time`, 'sessions/CPU-s', [
      ['1 worker (this thread)', best[0][1]],
      ['2 workers (this thread and a worker thread)', best[1][1]],
    ]),
  ];
}

/** Writing and reading a simulated PBM log (top 10, with pscore) in each format; CSV is the baseline. */
async function clickLogRows(sessions: number): Promise<BenchmarkRow[]> {
  const rng = randomStream('io');
  const lists = { offsets: Int32Array.from({ length: 1001 }, (_, q) => q * 10), documents: Int32Array.from({ length: 10_000 }, (_, i) => i) };
  const relevance = Float32Array.from({ length: 10_000 }, () => rng.uniform());
  const clickModel = new PositionBasedModel(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10));
  const { log } = simulateSessions(lists, { numSessions: sessions, clickModel, relevance, rng });
  const logged = { log, propensity: new Float32Array(log.document.length).fill(1) };
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-bench-'));
  const formats = ['csv', 'jsonl', 'arrow', 'parquet'] as const;
  const writes: [string, number][] = [];
  const reads: [string, number][] = [];
  const sizes: [string, number][] = [];
  try {
    for (const format of formats) {
      const file = path.join(dir, `log.${format}`);
      let started = performance.now();
      await writeClickLog(file, logged);
      writes.push([format, sessions / ((performance.now() - started) / 1000)]);
      started = performance.now();
      await readClickLog(file);
      reads.push([format, sessions / ((performance.now() - started) / 1000)]);
      sizes.push([format, statSync(file).size / sessions]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    ...withRatios(`click log write (${sessions} sessions)`, 'sessions/s', writes),
    ...withRatios(`click log read (${sessions} sessions)`, 'sessions/s', reads),
    ...withRatios('click log size on disk', 'bytes/session', sizes),
  ];
}

/** Rounds per second (choose + update, feedback every round) with 100 items and K = 10, against uniform random. */
function banditRows(rounds: number): BenchmarkRow[] {
  const attractiveness = Float64Array.from({ length: 100 }, (_, i) => 0.01 + (0.29 * i) / 99);
  const kappa = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
  const world = { numItems: 100, attractiveness, clickModel: new PositionBasedModel(kappa) };
  const measured = ['random', 'bernoulli-ts', 'pbm-ts', 'cascade-ts', 'epsilon-greedy'].map((type): [string, number] => {
    const policy = createPolicy({ type }, { numItems: 100, slateSize: 10, positionWeights: kappa });
    const started = performance.now();
    runOnline(policy, world, { rounds, batchSize: 1, rng: randomStream('bandit'), propensityDraws: 0, recordEvery: rounds });
    return [type, rounds / ((performance.now() - started) / 1000)];
  });
  return withRatios('slate bandits (100 items, K = 10, PBM)', 'rounds/s', measured);
}

function readerRows(file: string): BenchmarkRow[] {
  const started = performance.now();
  const data = readLetorFileSync(file);
  return withRatios('LETOR reader', 'lines/s', [[file.split('/').pop()!, data.labels.length / ((performance.now() - started) / 1000)]]);
}
