import type { Argv, ArgumentsCamelCase } from 'yargs';
import { stderrProgress } from '../core/progress.js';
import type { JsonObject } from '../core/validate.js';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { parseSlateWorld } from '../studies/slates/study.js';
import { evaluateGruSlates, formatGruSlateEvaluation, trainGruSlates } from '../studies/slates/train.js';
import { guardOutput, parseJsonObject } from './checks.js';
import { backendOption, count, num, quietOption, requiredText, seedOption, text, withOptions } from './options.js';

interface TrainArgs {
  data: string;
  itemsFile?: string;
  blockUsers: number;
  users?: number;
  dim: number;
  world: string;
  steps: number;
  minSlateLength?: number;
  testFraction: number;
  trainSteps: number;
  seed: number;
  epochs: number;
  lr: number;
  particles: number;
  batchUsers: number;
  out: string;
  backend: BackendChoice;
  quiet: boolean;
}

interface EvaluateArgs {
  model: string;
  k: number;
  backend: BackendChoice;
}

const trainCommand = {
  command: 'train',
  describe: "Train the GRU slate model (Eide et al. 2022) by SVI on FINN.no's data.npz (streamed) or on logged slates of a simulated GRU world, and save it to a folder",
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      data: text('world', "world (simulated, see --world) or a FINN.no data.npz (streamed; the authors' 5%/5% user split)"),
      'items-file': text(undefined, 'FINN: itemattr.npz with the item categories (default: next to data.npz)'),
      'block-users': count(10_000, 'FINN: users read per block'),
      users: count(undefined, 'FINN: read only the first this many users'),
      dim: count(25, 'FINN: d = H of the model'),
      world: text('{}', 'GRU world as JSON: items, groups, users, dim, hidden, slots, score (l2|dot), groupSpread, itemSpread, weightGain, h0Scale, noClickLogit'),
      steps: count(20, 'random logged slates per user (FINN: 20)'),
      'min-slate-length': count(undefined, 'shortest logged slate, no-click slot included (default slots − 2, at least 2)'),
      'test-fraction': num(0.1, 'share of users held out as test users'),
      'train-steps': count(5, 'first steps of each test user in training (FINN: 5)'),
      seed: seedOption(),
      epochs: count(5, 'passes over the training users'),
      lr: num(0.02, 'Adam learning rate'),
      particles: count(4, 'K: posterior draws per ELBO estimate'),
      'batch-users': count(64, 'users per SVI step'),
      out: requiredText('model folder (model.json + weights.bin)'),
      backend: backendOption('TF.js backend'),
      quiet: quietOption(),
    }) as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    guardOutput(args.out, { kind: 'folder', writes: ['model.json', 'weights.bin'], inputs: [['--data', args.data === 'world' ? undefined : args.data]] });
    const backend = await initBackend(args.backend);
    const progress = stderrProgress({ quiet: args.quiet });
    progress.log(`backend: ${backend.name} (${backend.description})`);
    const train = { epochs: args.epochs, learningRate: args.lr, particles: args.particles, batchUsers: args.batchUsers, out: args.out };
    if (args.data !== 'world') {
      const finn = { kind: 'finn' as const, file: args.data, itemsFile: args.itemsFile, blockUsers: args.blockUsers, users: args.users, dim: args.dim, seed: args.seed };
      const r = await trainGruSlates({ data: finn, ...train }, progress);
      process.stdout.write(`${r.users} users; ${r.steps} SVI steps in ${r.seconds.toFixed(1)} s, ELBO per user ${r.elboPerUser.toFixed(2)}\nmodel written to ${args.out}\n`);
      return;
    }
    const world = parseSlateWorld(parseJsonObject(args.world, '--world') as JsonObject, (field) => `--${field}`);
    const data = {
      kind: 'world' as const,
      world,
      seed: args.seed,
      steps: args.steps,
      minSlateLength: args.minSlateLength ?? Math.max(2, world.slots - 2),
      testFraction: args.testFraction,
      trainSteps: args.trainSteps,
    };
    const r = await trainGruSlates({ data, ...train }, progress);
    process.stdout.write(
      `${r.users} training users; ${r.steps} SVI steps in ${r.seconds.toFixed(1)} s (${(r.steps / r.seconds).toFixed(1)} steps/s), ELBO per user ${r.elboPerUser.toFixed(2)}\nmodel written to ${args.out}\n`,
    );
  },
};

const evaluateCommand = {
  command: 'evaluate',
  describe: "Held-out log-likelihood per step and hit rate@k of a saved GRU slate model on its test users, next to popularity and the world's true parameters",
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      model: requiredText('folder written by slates train'),
      k: count(10, 'hit rate@k: the clicked item among the top k of all items'),
      backend: backendOption('TF.js backend'),
    }) as unknown as Argv<EvaluateArgs>,
  handler: async (args: ArgumentsCamelCase<EvaluateArgs>) => {
    await initBackend(args.backend);
    process.stdout.write(`${formatGruSlateEvaluation(await evaluateGruSlates(args.model, args.k))}\n`);
  },
};

export const slatesCommand = {
  command: 'slates',
  describe: 'GRU slate recommender (Eide, Leslie & Frigessi 2022): train by SVI, evaluate on held-out users',
  builder: (yargs: Argv) => yargs.command(trainCommand).command(evaluateCommand).demandCommand(1, 'name an action: clicklab slates train or evaluate'),
  handler: () => {},
};
