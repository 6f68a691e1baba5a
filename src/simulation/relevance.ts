import { ConfigError } from '../core/errors.js';

/**
 * Mapping from a relevance grade y to P(click | examined), the ε-graded mapping of the DLA paper
 * and ULTRA:  P = ε + (1 − ε) · (2^y − 1) / (2^ymax − 1), with y clamped into [0, ymax].
 * ε is the click noise on irrelevant documents (0.1 by default). For ymax = 4 this gives
 * [0.10, 0.16, 0.28, 0.52, 1.00]; for ymax = 2 (MQ2008) [0.10, 0.40, 1.00].
 */
export interface GradedRelevanceSpec {
  readonly epsilon: number;
  readonly maxGrade: number;
}

/** The click-given-examination probability for each grade 0..maxGrade. */
export function gradedRelevanceTable(spec: GradedRelevanceSpec): Float64Array {
  const { epsilon, maxGrade } = spec;
  checkProbability(epsilon, 'clickModel.epsilon');
  if (!(Number.isInteger(maxGrade) && maxGrade >= 1)) {
    throw new ConfigError('clickModel.maxGrade', `expected an integer ≥ 1, found ${maxGrade}`);
  }
  const table = new Float64Array(maxGrade + 1);
  const top = Math.pow(2, maxGrade) - 1;
  for (let y = 0; y <= maxGrade; y++) table[y] = epsilon + ((1 - epsilon) * (Math.pow(2, y) - 1)) / top;
  return table;
}

/** Per-document relevance probabilities from integer grades (grades clamped into the table). */
export function relevanceProbabilities(labels: Int32Array, table: Float64Array): Float32Array {
  const out = new Float32Array(labels.length);
  const top = table.length - 1;
  for (let i = 0; i < labels.length; i++) out[i] = table[Math.max(0, Math.min(top, labels[i]))];
  return out;
}

/**
 * The grade → P(click | examined) mappings of the literature, by name:
 * - `graded`: ε + (1 − ε)(2^y − 1)/(2^ymax − 1) (the DLA paper, ULTRA; above);
 * - `binary`: ε + (1 − ε) · 1[y ≥ threshold] (binarised relevance with click noise ε);
 * - `linear`: min(1, scale · y), scale 0.25 by default (Oosterhuis 2022/2023: P(R = 1) = 0.25·y
 *   for grades 0–4).
 */
export type RelevanceMapping =
  | { readonly mapping: 'graded'; readonly epsilon: number; readonly maxGrade: number }
  | { readonly mapping: 'binary'; readonly epsilon: number; readonly threshold: number; readonly maxGrade: number }
  | { readonly mapping: 'linear'; readonly scale: number; readonly maxGrade: number };

export const RELEVANCE_MAPPINGS = ['graded', 'binary', 'linear'] as const;

/** P(click | examined) for each grade 0..maxGrade under a named mapping. */
export function relevanceTable(spec: RelevanceMapping, path = 'relevance'): Float64Array {
  switch (spec.mapping) {
    case 'graded':
      return gradedRelevanceTable(spec);
    case 'binary': {
      checkProbability(spec.epsilon, `${path}.epsilon`);
      if (!(Number.isInteger(spec.threshold) && spec.threshold >= 1 && spec.threshold <= spec.maxGrade)) {
        throw new ConfigError(`${path}.threshold`, `expected an integer in [1, ${spec.maxGrade}], found ${spec.threshold}`);
      }
      return Float64Array.from({ length: spec.maxGrade + 1 }, (_, y) => (y >= spec.threshold ? 1 : spec.epsilon));
    }
    case 'linear':
      if (!(spec.scale > 0 && Number.isFinite(spec.scale))) throw new ConfigError(`${path}.scale`, `expected a number > 0, found ${spec.scale}`);
      return Float64Array.from({ length: spec.maxGrade + 1 }, (_, y) => Math.min(1, spec.scale * y));
  }
}

function checkProbability(p: number, path: string): void {
  if (!(p >= 0 && p <= 1)) throw new ConfigError(path, `expected a number in [0, 1], found ${p}`);
}
