import type { RandomStream } from '../../core/random.js';
import { sampleBeta } from './beta.js';
import { BernoulliTS, type BernoulliTSOptions } from './bernoulli-ts.js';
import { selectTopK } from './common.js';
import { interleaveLists } from '../interleave.js';

/**
 * In-slate Thompson sampling (Eide, Leslie & Frigessi): the BernoulliTS posterior, but K
 * independent posterior draws per round. Draw s ranks all items, giving the list L_s; the slate
 * walks L_1[1], L_2[1], …, L_K[1], L_1[2], L_2[2], … and fills positions 1..K in that order,
 * skipping items already placed. Only the top K of each L_s can ever be reached (L_1's top K
 * alone are K distinct items, all visited by the K-th sweep), so each draw keeps only its top K.
 * Cost: K·numItems Beta draws per round. Propensities: Monte Carlo.
 */
export class InSlateTS extends BernoulliTS {
  private readonly lists: Int32Array;
  private readonly listSlate: Int32Array;
  private readonly used: Uint8Array;

  constructor(options: BernoulliTSOptions) {
    super(options, 'in-slate-ts');
    this.lists = new Int32Array(this.slateSize * this.slateSize);
    this.listSlate = new Int32Array(this.slateSize);
    this.used = new Uint8Array(this.numItems);
  }

  override choose(rng: RandomStream, slate: Int32Array): void {
    const n = this.numItems;
    const K = this.slateSize;
    const a = this.postAlpha;
    const b = this.postBeta;
    const theta = this.theta;
    for (let s = 0; s < K; s++) {
      for (let i = 0; i < n; i++) theta[i] = sampleBeta(rng, a[i], b[i]);
      selectTopK(theta, n, K, this.listSlate, this.topScratch);
      this.lists.set(this.listSlate, s * K);
    }
    interleaveLists(this.lists, K, K, K, slate, 0, this.used);
  }
}
