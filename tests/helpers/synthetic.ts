import { randomStream } from '../../src/core/random.js';
import type { RankingData } from '../../src/core/types.js';
import type { ImplicitFeedback } from '../../src/learning/implicit/feedback.js';

/**
 * A synthetic ranking world with known relevance: feature 0 carries relevance (grade 2 above 0.8,
 * 1 above −0.2, else 0), feature 1 is what the logging ranker sorts by and is independent of
 * relevance, feature 2 is noise. Naive learning from position-biased clicks picks up feature 1;
 * unbiased learners should not.
 */
export function syntheticWorld(numQueries: number, docsPerQuery: number, seed: number): RankingData {
  const rng = randomStream(seed);
  const n = numQueries * docsPerQuery;
  const features = new Float32Array(n * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < 3; f++) features[i * 3 + f] = rng.normal();
    const x0 = features[i * 3];
    labels[i] = x0 > 0.8 ? 2 : x0 > -0.2 ? 1 : 0;
  }
  return {
    source: `synthetic(${seed})`,
    numFeatures: 3,
    features,
    labels,
    queryOffsets: Int32Array.from({ length: numQueries + 1 }, (_, q) => q * docsPerQuery),
    qids: Array.from({ length: numQueries }, (_, q) => String(q)),
    docIds: null,
  };
}

/** Feature column `f` of a world, as per-document scores (e.g. the logging ranker's). */
export function featureColumn(data: RankingData, f: number): Float32Array {
  return Float32Array.from({ length: data.labels.length }, (_, i) => data.features[i * data.numFeatures + f]);
}

/** 30 users × 20 items; user u clicks items u mod 5, 5 + u mod 7 and 12 + u mod 3. */
export function tinyFeedback(): ImplicitFeedback {
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < 30; u++) {
    for (const i of [u % 5, 5 + (u % 7), 12 + (u % 3)]) {
      users.push(u);
      items.push(i);
    }
  }
  return { numUsers: 30, numItems: 20, user: Int32Array.from(users), item: Int32Array.from(items) };
}
