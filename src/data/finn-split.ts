/**
 * The standard train / validation / test split of the FINN.no slate data (Eide, Leslie & Frigessi
 * 2021), per block of users, so that training and evaluation each stream the file.
 *
 *     finnUserPhase(userId, options?): 'train' | 'valid' | 'test'
 *     splitFinnBlock(block, options?): { train: SlateSequences, valid: FinnEvaluationView, test: FinnEvaluationView }
 *     finnTrainingBlocks(path, { blockUsers?, users?, progress?, split? }): AsyncGenerator<SlateSequences>
 *     finnEvaluationBlocks(path, 'valid' | 'test', { blockUsers?, users?, progress?, split? }): AsyncGenerator<FinnEvaluationView>
 *     options (split): { seed = 0, validFraction = 0.05, testFraction = 0.05, trainSteps = 5 }
 *
 * A model that takes a block source (`() => AsyncIterable<SlateSequences>`) gets the training data
 * as `() => finnTrainingBlocks('data.npz')`. Spelled out (training on the training view, then
 * scoring the test users from step 5 on):
 *
 *     for await (const block of finnSequenceBlocks('data.npz')) model.trainOn(splitFinnBlock(block).train);
 *     for await (const block of finnSequenceBlocks('data.npz')) {
 *       const { test } = splitFinnBlock(block);
 *       const p = model.clickProbabilities(test.sequences);     // [U·T·S]
 *       slateLogLikelihood(p, test.sequences, { fromStep: test.fromStep });
 *     }
 *
 * What the authors do (`load_dataloaders` in recsys_slates_dataset/dataset_torch.py, and
 * code/dataset.py for the paper): `torch.manual_seed(seed)`, `perm = torch.randperm(num_users)`;
 * the first ⌊0.05·N⌋ user rows of the permutation are validation users, the next ⌊0.05·N⌋ test
 * users, the rest training users. The training set is every user, with a mask that is false for
 * the validation and test users' steps t ≥ t_testsplit = 5 (so their first 5 steps train the model);
 * the validation and test sets are those users' whole histories, scored on steps t ≥ 5 only.
 *
 * Differences here, so that a block can be split without seeing the whole file:
 * - a user's phase comes from a hash of (seed, userId) compared with the fractions, not from a
 *   permutation of rows: the same users whatever the block size or the order of the rows, but the
 *   counts are binomial (about 5% each) rather than exactly ⌊0.05·N⌋, and the users are not those
 *   of the authors' torch permutation (reproducing torch.randperm's generator is out of scope);
 * - the training view zeroes the masked steps (padding: click, click_idx, slate_lengths, slate,
 *   interaction_type all 0) instead of carrying a mask, since padding is already what every FINN
 *   reader skips. A model that uses the user's position in time must not read those zeros as the
 *   end of the history for anything but training.
 */
import { finnSequenceBlocks, type FinnBlockOptions } from './finn-sequences.js';
import type { SlateSequences } from './slate-sequences.js';

export type FinnPhase = 'train' | 'valid' | 'test';

export interface FinnSplitOptions {
  /** Chooses the held-out users (default 0). */
  readonly seed?: number;
  /** Share of users held out for validation (default 0.05). */
  readonly validFraction?: number;
  /** Share of users held out for testing (default 0.05). */
  readonly testFraction?: number;
  /** The held-out users' first steps that stay in training (default 5, the authors' t_testsplit). */
  readonly trainSteps?: number;
}

/** Held-out users' whole histories; metrics score the steps t ≥ fromStep. */
export interface FinnEvaluationView {
  readonly sequences: SlateSequences;
  readonly fromStep: number;
}

export interface FinnSplitBlock {
  /** Every user of the block; validation and test users' steps t ≥ trainSteps are padding. */
  readonly train: SlateSequences;
  readonly valid: FinnEvaluationView;
  readonly test: FinnEvaluationView;
}

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function resolved(options: FinnSplitOptions): Required<FinnSplitOptions> {
  const o = { seed: 0, validFraction: 0.05, testFraction: 0.05, trainSteps: 5, ...options };
  if (!(o.validFraction >= 0 && o.testFraction >= 0 && o.validFraction + o.testFraction <= 1)) {
    throw new RangeError(`FINN split: expected validFraction and testFraction ≥ 0 with a sum ≤ 1, found ${o.validFraction} and ${o.testFraction}`);
  }
  if (!Number.isInteger(o.trainSteps) || o.trainSteps < 0) throw new RangeError(`FINN split: expected trainSteps to be an integer ≥ 0, found ${o.trainSteps}`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`FINN split: expected an integer seed, found ${o.seed}`);
  return o;
}

/** The phase of a user: a uniform number in [0, 1) from the hash of (seed, userId), below validFraction → 'valid', below validFraction + testFraction → 'test'. */
export function finnUserPhase(userId: number, options: FinnSplitOptions = {}): FinnPhase {
  return phaseOf(userId, resolved(options));
}

function phaseOf(userId: number, o: Required<FinnSplitOptions>): FinnPhase {
  const u = mix32(mix32(userId) ^ mix32(o.seed ^ 0x9e3779b9)) / 4294967296;
  return u < o.validFraction ? 'valid' : u < o.validFraction + o.testFraction ? 'test' : 'train';
}

/** The rows `rows` of a block (in order), as a block of their own. */
function subset(b: SlateSequences, rows: number[]): SlateSequences {
  const T = b.steps;
  const S = b.slots;
  const out = {
    users: rows.length,
    steps: T,
    slots: S,
    userId: new Int32Array(rows.length),
    click: new Int32Array(rows.length * T),
    clickIdx: new Int32Array(rows.length * T),
    slateLengths: new Int32Array(rows.length * T),
    slate: new Int32Array(rows.length * T * S),
    interactionType: new Uint8Array(rows.length * T),
  };
  rows.forEach((u, i) => {
    out.userId[i] = b.userId[u];
    out.click.set(b.click.subarray(u * T, (u + 1) * T), i * T);
    out.clickIdx.set(b.clickIdx.subarray(u * T, (u + 1) * T), i * T);
    out.slateLengths.set(b.slateLengths.subarray(u * T, (u + 1) * T), i * T);
    out.interactionType.set(b.interactionType.subarray(u * T, (u + 1) * T), i * T);
    out.slate.set(b.slate.subarray(u * T * S, (u + 1) * T * S), i * T * S);
  });
  return out;
}

/** Splits one block (see the top of this file); the block itself is left as it is. */
export function splitFinnBlock(block: SlateSequences, options: FinnSplitOptions = {}): FinnSplitBlock {
  const o = resolved(options);
  const T = block.steps;
  const S = block.slots;
  const from = Math.min(o.trainSteps, T);
  const train = {
    ...block,
    click: block.click.slice(),
    clickIdx: block.clickIdx.slice(),
    slateLengths: block.slateLengths.slice(),
    slate: block.slate.slice(),
    interactionType: block.interactionType.slice(),
  };
  const valid: number[] = [];
  const test: number[] = [];
  for (let u = 0; u < block.users; u++) {
    const phase = phaseOf(block.userId[u], o);
    if (phase === 'train') continue;
    (phase === 'valid' ? valid : test).push(u);
    train.click.fill(0, u * T + from, (u + 1) * T);
    train.clickIdx.fill(0, u * T + from, (u + 1) * T);
    train.slateLengths.fill(0, u * T + from, (u + 1) * T);
    train.interactionType.fill(0, u * T + from, (u + 1) * T);
    train.slate.fill(0, (u * T + from) * S, (u + 1) * T * S);
  }
  return { train, valid: { sequences: subset(block, valid), fromStep: o.trainSteps }, test: { sequences: subset(block, test), fromStep: o.trainSteps } };
}

/** `finnSequenceBlocks` options plus the split's. */
export interface FinnSplitReadOptions extends FinnBlockOptions {
  readonly split?: FinnSplitOptions;
}

/** The training view of each block of `data.npz` (every user; held-out users' later steps are padding). */
export async function* finnTrainingBlocks(path: string, options: FinnSplitReadOptions = {}): AsyncGenerator<SlateSequences, void, undefined> {
  for await (const block of finnSequenceBlocks(path, options)) yield splitFinnBlock(block, options.split).train;
}

/** The validation or test users of each block of `data.npz`, whole histories, with the step scoring starts at; blocks without such users are skipped. */
export async function* finnEvaluationBlocks(path: string, phase: 'valid' | 'test', options: FinnSplitReadOptions = {}): AsyncGenerator<FinnEvaluationView, void, undefined> {
  for await (const block of finnSequenceBlocks(path, options)) {
    const view = splitFinnBlock(block, options.split)[phase];
    if (view.sequences.users > 0) yield view;
  }
}
