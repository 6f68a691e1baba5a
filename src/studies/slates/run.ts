import { randomStream, type RandomStream } from '../../core/random.js';
import { FIRST_REAL_ITEM, type SlateSequences } from '../../data/slate-sequences.js';
import { chooseGruSlates, type GruSlatePolicy, type ParameterSource } from '../../learning/slates/gru-slate-policies.js';
import { GruSlateModel, inMemoryBlocks } from '../../learning/slates/gru-slate-model.js';
import {
  createGruSlateWorld,
  emptySlateSequences,
  type GruSlateWorldOptions,
  gruStep,
  initialState,
  outputOf,
  randomSlate,
  sampleSlot,
  simulateLoggedSequences,
  slateProbabilities,
} from '../../simulation/slates/gru-slate-world.js';

/** The online methods: the three posterior policies, and two references. */
export const SLATE_METHODS = ['greedy', 'thompson', 'in-slate-ts', 'oracle', 'random'] as const;
export type SlateMethod = (typeof SLATE_METHODS)[number];

/** One cell of a `slates` study (the runner owns the seeds). */
export interface SlatesCell {
  readonly world: GruSlateWorldOptions;
  /** Steps of uniformly random logged slates every user has before the online rounds. */
  readonly loggedSteps: number;
  /** Shortest logged slate (varied so the no-click bias by length is learnable); online slates are full. */
  readonly minSlateLength: number;
  readonly rounds: number;
  /** Refit (warm start) the posterior every this many rounds. */
  readonly refitEvery: number;
  readonly model: {
    readonly particles: number;
    readonly learningRate: number;
    readonly batchUsers: number;
    readonly maxScale: number;
    /** Epochs of the first fit on the logged data, and of each refit. */
    readonly epochs: number;
    readonly refitEpochs: number;
  };
  readonly methods: readonly SlateMethod[];
}

export interface SlatesSeedResult {
  /** Per method: clicks (on real items) in each round, summed over users. */
  readonly clicksPerRound: Record<string, number[]>;
  readonly users: number;
  /** Seconds spent in SVI (first fit and refits) and in the whole seed. */
  readonly fitSeconds: number;
  readonly seconds: number;
}

/**
 * One seed of the online slate study (Eide, Leslie & Frigessi 2022, §5 in miniature): a GRU world
 * with known parameters; every user first has `loggedSteps` random slates; the model is fitted on
 * them once, and each learning method continues from that same posterior. Then for `rounds`
 * rounds every user gets a full slate from each method, the world samples the click (common
 * random numbers across methods: the same uniform per user and round), the user's true state
 * moves on a click, and every `refitEvery` rounds the method's posterior is refitted, warm, on all
 * its data so far. "oracle" ranks greedily with the true parameters and state; "random" shows
 * random slates.
 */
export async function runSlatesSeed(cell: SlatesCell, seed: number, onUnit: (detail: string) => void = () => {}): Promise<SlatesSeedResult> {
  const started = performance.now();
  const rng = randomStream(seed);
  const world = createGruSlateWorld(rng.derive('world'), cell.world);
  const p = world.params;
  const U = world.users;
  const S = p.slots;
  const T = cell.loggedSteps + cell.rounds;
  const logged = simulateLoggedSequences(world, rng.derive('logged'), { steps: cell.loggedSteps, minSlateLength: cell.minSlateLength });
  let fitSeconds = 0;
  const learning = cell.methods.some((m) => m === 'greedy' || m === 'thompson' || m === 'in-slate-ts');
  const newModel = () =>
    new GruSlateModel({
      dim: p.dim,
      hidden: p.hidden,
      numItems: p.numItems,
      slots: S,
      score: p.score,
      itemGroup: world.itemGroup,
      particles: cell.model.particles,
      learningRate: cell.model.learningRate,
      batchUsers: cell.model.batchUsers,
      maxScale: cell.model.maxScale,
      seed: `${seed}/model`,
    });
  let initial: ReturnType<GruSlateModel['snapshot']> | null = null;
  if (learning) {
    const model = newModel();
    const fit = await model.fit(inMemoryBlocks(logged), { epochs: cell.model.epochs, users: U });
    fitSeconds += fit.seconds;
    initial = model.snapshot();
    model.dispose();
  }
  const clicksPerRound: Record<string, number[]> = {};
  for (const method of cell.methods) {
    const history = emptySlateSequences(U, T, S);
    copySteps(logged, history);
    // The true states after the logged steps.
    const h = new Float64Array(U * p.hidden);
    const hu = new Float64Array(p.hidden);
    const scratch = new Float64Array(3 * p.hidden);
    for (let u = 0; u < U; u++) {
      initialState(p, u, hu);
      for (let t = 0; t < cell.loggedSteps; t++) {
        const c = logged.click[u * cell.loggedSteps + t];
        if (c >= FIRST_REAL_ITEM) gruStep(p, hu, c, scratch);
      }
      h.set(hu, u * p.hidden);
    }
    const model = initial && method !== 'oracle' && method !== 'random' ? GruSlateModel.restore(initial) : null;
    let source: ParameterSource = model ? model.posterior() : { mean: () => p, sample: () => p };
    const slates = new Int32Array(U * S);
    const z = new Float64Array(p.dim);
    const probs = new Float64Array(S);
    const perRound: number[] = [];
    const methodRng = rng.derive('method', method);
    for (let r = 0; r < cell.rounds; r++) {
      const t = cell.loggedSteps + r;
      // The policy sees the history so far: steps ≥ t are still padding, which moves no state.
      if (method === 'random') {
        const rr = methodRng.derive('round', r);
        for (let u = 0; u < U; u++) randomSlate(rr, p.numItems, slates, u * S, S);
      } else {
        chooseGruSlates(method === 'oracle' ? 'greedy' : (method as GruSlatePolicy), source, history, S, methodRng.derive('round', r), slates);
      }
      let clicks = 0;
      for (let u = 0; u < U; u++) {
        hu.set(h.subarray(u * p.hidden, (u + 1) * p.hidden));
        outputOf(p, hu, z);
        slateProbabilities(p, z, slates, u * S, S, probs);
        const k = sampleSlot(clickStream(rng, r, u), probs, S);
        const item = slates[u * S + k];
        const at = u * T + t;
        history.slate.set(slates.subarray(u * S, u * S + S), at * S);
        history.slateLengths[at] = S;
        history.clickIdx[at] = k;
        history.click[at] = item;
        history.interactionType[at] = 2;
        if (item >= FIRST_REAL_ITEM) {
          clicks++;
          gruStep(p, hu, item, scratch);
          h.set(hu, u * p.hidden);
        }
      }
      perRound.push(clicks);
      if (model && (r + 1) % cell.refitEvery === 0 && r + 1 < cell.rounds) {
        const fit = await model.fit(inMemoryBlocks(history), { epochs: cell.model.refitEpochs, users: U });
        fitSeconds += fit.seconds;
        source = model.posterior();
      }
    }
    model?.dispose();
    clicksPerRound[method] = perRound;
    onUnit(method);
  }
  return { clicksPerRound, users: U, fitSeconds, seconds: (performance.now() - started) / 1000 };
}

/** The click draw of user u in round r: shared by every method (common random numbers). */
function clickStream(rng: RandomStream, round: number, user: number): RandomStream {
  return rng.derive('click', round, user);
}

/** Copy the logged steps of `from` (T₀ steps) into the first T₀ steps of `to`. */
function copySteps(from: SlateSequences, to: SlateSequences): void {
  const T0 = from.steps;
  const T = to.steps;
  const S = to.slots;
  for (let u = 0; u < from.users; u++) {
    to.click.set(from.click.subarray(u * T0, (u + 1) * T0), u * T);
    to.clickIdx.set(from.clickIdx.subarray(u * T0, (u + 1) * T0), u * T);
    to.slateLengths.set(from.slateLengths.subarray(u * T0, (u + 1) * T0), u * T);
    to.interactionType.set(from.interactionType.subarray(u * T0, (u + 1) * T0), u * T);
    to.slate.set(from.slate.subarray(u * T0 * S, (u + 1) * T0 * S), u * T * S);
  }
}
