import { statSync } from 'node:fs';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress, type Progress } from '../core/progress.js';
import { randomStream } from '../core/random.js';
import type { RankingData } from '../core/types.js';
import { loadRankingDataset, openClickLogSink, openInteractionLogSink, letorOrigin, readLetorFileSync, writeInteractionLog, type LogOrigin, type LogSink } from '../data/index.js';
import type { LoggedClicks } from '../data/click-log-table.js';
import { recommenderTestSet, resolveRecommenderSpec, simulateRecommenderLog, type RecommenderSpec } from '../simulation/recommender/simulate-log.js';
import { fileOrderLists, SESSIONS_PER_CHUNK, simulateSearchLog } from '../simulation/search-log/simulate.js';
import { resolveZipfWorld, simulateZipfSessions, type ZipfWorldSpec } from '../simulation/search-log/zipf-world.js';
import { loggingRankerLists } from '../learning/logging-ranker.js';
import { openWorld } from '../fitting/world.js';
import { simulateOnRankings } from '../fitting/world-simulation.js';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { CLICK_MODEL_TYPES, createClickModel, type ClickModelSpec } from '../simulation/click-models/index.js';
import { EXAMINATION_PROFILES, type ExaminationProfile } from '../simulation/examination.js';
import { RELEVANCE_MAPPINGS, relevanceTable, type RelevanceMapping } from '../simulation/relevance.js';
import { type GuardedInput, guardOutput, parseJsonObject, parseSpec } from './checks.js';
import { backendOption, choice, count, flag, LOG_FILE_OUT, num, quietOption, seedOption, text, workersOption, withOptions } from './options.js';

interface SimulateArgs {
  out: string;
  dataset: string;
  fold: number;
  split: 'train' | 'validation' | 'test';
  letor?: string;
  logger: 'linear' | 'file-order';
  cutoff: number;
  clickModel: string;
  examination?: ExaminationProfile;
  eta?: number;
  relevance: RelevanceMapping['mapping'];
  epsilon: number;
  threshold: number;
  scale: number;
  intervention: 'none' | 'shuffle';
  sessions: number;
  seed: number;
  workers: number;
  /** `search`, `zipf`, `recommender`, or the path of a fitted click model (JSON from `clicklab fit`). */
  world: string;
  recommender: string;
  zipf: string;
  testOut?: string;
  testUsers: number;
  testItemsPerUser: number;
  truth: boolean;
  backend: BackendChoice;
  quiet: boolean;
}

export const simulateCommand = {
  command: 'simulate',
  describe:
    'Simulate a click log and write it (CSV, JSON Lines, Arrow or Parquet by extension): search sessions on a LETOR data set under a click model, a recommender world with exposure bias, or a model fitted by clicklab fit',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      out: LOG_FILE_OUT,
      world: text(
        'search',
        'search: ranked lists of a LETOR data set; zipf: a synthetic web-search world with power-law query frequencies (Baidu-ULTR-shaped, see --zipf); recommender: users × items with exposure bias; or FILE.json or a FOLDER (a Parquet world), a model saved by `clicklab fit` (its logged rankings and fitted clicks)',
      ),
      zipf: text(
        '{}',
        'zipf world as JSON: {"queries" (default 1e6), "exponent" (of the query frequencies, default 1), "candidates" (documents per query, default cutoff + 2), "rankings" (rotations shown, default 3), "seed" (of the world, default 1; --seed draws the sessions)}',
      ),
      recommender: text(
        '{}',
        'recommender world as JSON: {"users", "items", "dimension", "popularityExponent", "meanPreference", "exposure": {"expectedExposures", "popularityExponent", "minProbability"}}',
      ),
      'test-out': text(undefined, 'recommender: also write a uniformly random test set (true R_ui) here'),
      'test-users': count(1000, 'recommender test set: users sampled'),
      'test-items-per-user': count(16, 'recommender test set: items per user, uniformly at random'),
      dataset: text('mq2008', 'shipped data set'),
      fold: count(1, 'fold of the shipped data set'),
      split: choice(['train', 'validation', 'test'] as const, 'train', 'which split users search'),
      letor: text(undefined, 'a LETOR/SVMlight file (plain or .gz) instead of the shipped data set'),
      logger: choice(['linear', 'file-order'] as const, 'linear', 'logging ranker: linear on 1% of the queries, or the file order'),
      cutoff: count(10, 'users see the top N'),
      'click-model': text('pbm', `${CLICK_MODEL_TYPES.join(', ')}, or a JSON object with "type" and parameters`),
      examination: choice(EXAMINATION_PROFILES, undefined, 'examination profile (pbm, trust-bias)'),
      eta: num(undefined, 'position-bias severity η (pbm, trust-bias)'),
      relevance: choice(RELEVANCE_MAPPINGS, 'graded', 'grade → P(click | examined) mapping'),
      epsilon: num(0.1, 'click noise ε on irrelevant documents (graded, binary)'),
      threshold: num(1, 'lowest relevant grade (binary)'),
      scale: num(0.25, 'P = scale · grade (linear)'),
      intervention: choice(['none', 'shuffle'] as const, 'none', 'shuffle: RandTop-n, each session shows the top N in random order'),
      sessions: count(100_000),
      seed: seedOption(),
      workers: workersOption(1, 'search: threads that simulate the sessions, this one included (the log is the same for any number)'),
      truth: flag('also write the hidden truth (examination, relevance probability) as truth_* columns'),
      backend: backendOption('TF.js backend (to train the linear logger)'),
      quiet: quietOption(),
    }) as unknown as Argv<SimulateArgs>,
  handler: async (args: ArgumentsCamelCase<SimulateArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    const inputs: GuardedInput[] = [
      ['--letor', args.letor],
      ['--world', args.world === 'search' || args.world === 'recommender' ? undefined : args.world],
    ];
    guardOutput(args.out, { kind: 'file', inputs });
    if (args.testOut !== undefined) guardOutput(args.testOut, { option: '--test-out', kind: 'file', inputs: [...inputs, ['--out', args.out]] });
    if (args.world === 'recommender') return simulateRecommender(args, progress);
    if (args.world === 'zipf') return simulateZipfWorld(args, progress);
    if (args.world !== 'search') return simulateFittedWorld(args, progress);
    const data = loadWorld(args);
    const maxGrade = data.labels.reduce((max, y) => Math.max(max, y), 1);
    const relevance = relevanceTable(relevanceMapping(args, maxGrade), 'relevance');
    const spec = clickModelSpec(args);
    const clickModel = createClickModel(spec, args.cutoff, 'click-model');
    if (args.logger === 'linear') await initBackend(args.backend);
    const sink = await openClickLogSink(args.out, { truth: args.truth, sessions: args.sessions, field: '--out', origin: logOrigin(args) });
    let simulated = 0;
    progress.start(`simulating ${clickModel.name} sessions on ${data.source}`, args.sessions);
    const rng = randomStream(args.seed);
    await aborting(sink, () => {
      // Inside: a logging ranker that cannot be trained must not leave a file behind either.
      const lists =
        args.logger === 'linear'
          ? loggingRankerLists(data, { trainFraction: 0.01, sample: 'queries', steps: 300 }, { batchSize: 256, learningRate: 0.05, clipNorm: 5 }, args.cutoff, rng.derive('logging'))
          : fileOrderLists(data, args.cutoff);
      return simulateSearchLog(
        data,
        { lists, cutoff: args.cutoff, intervention: args.intervention, truth: args.truth, relevance, clickModel, clickModelSpec: spec, sessions: args.sessions },
        rng,
        async (chunk: LoggedClicks) => {
          await sink.write(chunk);
          simulated += chunk.log.sessionQuery.length;
          progress.update(simulated);
        },
        // A streaming writer is done with a chunk once it is written; the Arrow path keeps them.
        { workers: args.workers, releaseChunks: sink.streaming },
      );
    });
    await sink.close();
    progress.finish();
    process.stdout.write(`${args.sessions} sessions (${clickModel.name}, seed ${args.seed}) written to ${args.out}\n`);
  },
};

/**
 * A semi-synthetic search log from a fitted world (`clicklab fit`): sessions on the logged rankings,
 * in proportion to their logged frequencies, clicked by the fitted model (fitting/world-simulation.ts:
 * a JSON world from memory, a Parquet world's folder streamed through DuckDB, the same log from both).
 */
async function simulateFittedWorld(args: SimulateArgs, progress: Progress): Promise<void> {
  if (!args.world.toLowerCase().endsWith('.json') && !isFolder(args.world))
    throw new ConfigError('--world', `expected search, zipf, recommender, a fitted model file (.json from clicklab fit) or a Parquet world's folder, found "${args.world}"`);
  const world = await openWorld(args.world);
  try {
    const sink = await openClickLogSink(args.out, { truth: args.truth, sessions: args.sessions, field: '--out' });
    progress.start(`simulating ${world.model} sessions on the world fitted to ${world.source}`, args.sessions);
    let phase = 'drawn';
    await aborting(sink, () =>
      simulateOnRankings(world, args.sessions, randomStream(args.seed).derive('sessions'), (chunk) => sink.write(args.truth ? chunk : { log: chunk.log, propensity: chunk.propensity }), {
        truth: args.truth,
        chunkSessions: SESSIONS_PER_CHUNK,
        onProgress: (now, n) => {
          if (now !== phase) {
            // The sessions were simulated bucket by bucket: now written out in random order.
            progress.finish();
            progress.start(`writing them in random order to ${args.out}`, args.sessions);
            phase = now;
          }
          progress.update(n);
        },
      }),
    );
    await sink.close();
    progress.finish();
    // A world fitted on text ids logs their dense indices: the text of each, as `clicklab convert --ids text` writes it.
    const idFiles = await world.writeIdTexts(args.out);
    process.stdout.write(`${args.sessions} sessions (${world.model} fitted to ${world.source}, seed ${args.seed}) written to ${args.out}\n${idFiles.map((f) => `  ids: ${f}\n`).join('')}`);
  } finally {
    world.close();
  }
}

/**
 * A log of the synthetic power-law search world (simulation/search-log/zipf-world.ts), in chunks of
 * SESSIONS_PER_CHUNK sessions, each from its own derived stream. Partitions of one log are runs with
 * the same --zipf (the same world) and different --seed.
 */
async function simulateZipfWorld(args: SimulateArgs, progress: Progress): Promise<void> {
  const world = resolveZipfWorld(parseJsonObject(args.zipf, '--zipf') as Partial<ZipfWorldSpec>, args.cutoff, '--zipf');
  const spec = clickModelSpec(args);
  const clickModel = createClickModel(spec, args.cutoff, 'click-model');
  const sink = await openClickLogSink(args.out, { truth: args.truth, sessions: args.sessions, field: '--out' });
  const rng = randomStream(args.seed);
  progress.start(`simulating ${clickModel.name} sessions on a zipf world of ${world.queries} queries`, args.sessions);
  await aborting(sink, async () => {
    for (let chunk = 0, done = 0; done < args.sessions; chunk++) {
      const n = Math.min(SESSIONS_PER_CHUNK, args.sessions - done);
      const simulated = simulateZipfSessions(world, clickModel, args.cutoff, n, rng.derive('sessions', chunk));
      await sink.write(args.truth ? simulated : { log: simulated.log, propensity: simulated.propensity });
      done += n;
      progress.update(done);
    }
  });
  await sink.close();
  progress.finish();
  process.stdout.write(`${args.sessions} sessions (${clickModel.name} on a zipf world of ${world.queries} queries, seed ${args.seed}) written to ${args.out}\n`);
}

/**
 * A recommender interaction log (user_id, item_id, click, pscore = the exposure propensity θ_i),
 * streamed in chunks of users, and optionally the uniformly random test set of the same world.
 */
async function simulateRecommender(args: SimulateArgs, progress: Progress): Promise<void> {
  const params = resolveRecommenderSpec(parseJsonObject(args.recommender, '--recommender') as RecommenderSpec, 'recommender');
  const rng = randomStream(args.seed);
  const sink = await openInteractionLogSink(args.out, { truth: args.truth });
  progress.start(`simulating ${params.users} users × ${params.items} items`, params.users);
  let users = 0;
  await aborting(sink, () =>
    simulateRecommenderLog(params, rng, async (chunk) => {
      await sink.write(chunk);
      users = chunk.log.user.length > 0 ? chunk.log.user[chunk.log.user.length - 1] + 1 : users;
      progress.update(users);
    }),
  );
  await sink.close();
  progress.finish();
  if (args.testOut) {
    const test = recommenderTestSet(params, rng, { usersSample: Math.min(args.testUsers, params.users), itemsPerUser: Math.min(args.testItemsPerUser, params.items) });
    await writeInteractionLog(args.testOut, test, { truth: args.truth });
  }
  process.stdout.write(`${params.users} users × ${params.items} items (seed ${args.seed}) written to ${args.out}${args.testOut ? `, test set to ${args.testOut}` : ''}\n`);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Runs `work`, which writes to `sink`; on a failure the sink is given up (no partial file, a previous one untouched). */
async function aborting<T>(sink: LogSink<T>, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/** What the log's ids index, recorded in the file for `clicklab train --log` to check. */
function logOrigin(args: SimulateArgs): LogOrigin {
  return args.letor ? { dataset: letorOrigin(args.letor) } : { dataset: args.dataset, fold: args.fold, split: args.split };
}

function loadWorld(args: SimulateArgs): RankingData {
  if (args.letor) return readLetorFileSync(args.letor);
  if (args.dataset !== 'mq2008') throw new ConfigError('--dataset', `expected "mq2008" (or --letor PATH for another LETOR file), found "${args.dataset}"`);
  return loadRankingDataset('mq2008', { fold: args.fold })[args.split];
}

function relevanceMapping(args: SimulateArgs, maxGrade: number): RelevanceMapping {
  switch (args.relevance) {
    case 'graded':
      return { mapping: 'graded', epsilon: args.epsilon, maxGrade };
    case 'binary':
      return { mapping: 'binary', epsilon: args.epsilon, threshold: args.threshold, maxGrade };
    case 'linear':
      return { mapping: 'linear', scale: args.scale, maxGrade };
  }
}

/** `--click-model` is a model name or a JSON spec; `--examination` and `--eta` fill in the PBM's and trust bias's fields. */
function clickModelSpec(args: SimulateArgs): ClickModelSpec {
  const spec = parseSpec(args.clickModel, '--click-model');
  if (args.examination !== undefined) spec.examination = args.examination;
  if (args.eta !== undefined) spec.eta = args.eta;
  return spec as unknown as ClickModelSpec;
}
