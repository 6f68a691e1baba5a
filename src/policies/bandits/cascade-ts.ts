import { BernoulliTS, type BernoulliTSOptions } from './bernoulli-ts.js';
import type { FeedbackSemantics } from './common.js';

/**
 * Thompson sampling for the cascade model (Cascade TS; Kveton et al. 2015's setting, the Beta–
 * Bernoulli TS analysed by Zhong, Cheung & Tan): θ_a ~ Beta(α_a + S_a, β_a + N_a − S_a), slate =
 * top K by θ. The difference from BernoulliTS is the feedback: only examined items are updated, i.e.
 * positions down to and including the first click (all K when nothing was clicked). The online loop
 * passes that mask as `observed` — build it with `cascadeObserved(clicks, observed)`; this policy
 * updates exactly the positions it is given.
 */
export class CascadeTS extends BernoulliTS {
  override readonly feedback: FeedbackSemantics = 'cascade';

  constructor(options: BernoulliTSOptions) {
    super(options, 'cascade-ts');
  }
}
