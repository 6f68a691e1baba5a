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
  if (!(epsilon >= 0 && epsilon <= 1)) throw new ConfigError('clickModel.epsilon', `expected a number in [0, 1], found ${epsilon}`);
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
