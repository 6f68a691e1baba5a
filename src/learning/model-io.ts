import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataFormatError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import type { RankingData } from '../core/types.js';
import { normalizeFeatures, normalizePerQuery } from '../data/normalize.js';
import { ScoringModel, type ModelSpec } from './model.js';

/**
 * A trained model on disk: a folder with `model.json` (what the model is) and `weights.bin` (its
 * weights, float32 little-endian, in `weights` order). Nothing in it depends on the TF.js backend
 * that trained it: any backend loads it and scores the same.
 */
export const MODEL_FORMAT = 'clicklab/model@1';

/** How features must be transformed before scoring, as the training data was. */
export type FeatureNormalization =
  | { readonly type: 'none' }
  | { readonly type: 'per-query' }
  /** Each feature to [−1, 1] with the training minimum and maximum (`normalizeFeatures`). */
  | { readonly type: 'per-feature'; readonly min: readonly number[]; readonly max: readonly number[] };

export interface ModelDescription {
  readonly format: typeof MODEL_FORMAT;
  readonly architecture: { readonly type: ModelSpec['type']; readonly hidden: readonly number[]; readonly activation: 'elu'; readonly output: 'linear' };
  readonly numFeatures: number;
  readonly normalization: FeatureNormalization;
  /** The highest relevance grade of the training data (for ERR when scoring). */
  readonly maxGrade: number;
  /** The learner and its settings, as given. */
  readonly learner: Readonly<Record<string, unknown>>;
  /** Where the training data and clicks came from, the training settings and the history summary. */
  readonly training: Readonly<Record<string, unknown>>;
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[]; readonly offset: number }[];
  readonly dtype: 'float32';
  readonly byteOrder: 'little-endian';
}

export interface SaveModelInfo {
  readonly normalization: FeatureNormalization;
  readonly maxGrade: number;
  readonly learner: Readonly<Record<string, unknown>>;
  readonly training: Readonly<Record<string, unknown>>;
}

/** Write `model` to `folder` (created if needed); each file is written aside, then renamed. */
export function saveModel(folder: string, model: ScoringModel, info: SaveModelInfo): ModelDescription {
  mkdirSync(folder, { recursive: true });
  const snapshot = model.snapshot();
  let offset = 0;
  const weights = model.variables.map((v, i) => {
    const entry = { name: `layer${Math.floor(i / 2) + 1}.${i % 2 === 0 ? 'weight' : 'bias'}`, shape: [...v.shape], offset };
    offset += snapshot[i].length;
    return entry;
  });
  const bytes = Buffer.alloc(offset * 4);
  let at = 0;
  for (const values of snapshot) for (const x of values) at = bytes.writeFloatLE(x, at);
  const description: ModelDescription = {
    format: MODEL_FORMAT,
    architecture: { type: model.spec.type, hidden: model.spec.type === 'mlp' ? [...(model.spec.hidden ?? [64, 32])] : [], activation: 'elu', output: 'linear' },
    numFeatures: model.numFeatures,
    normalization: info.normalization,
    maxGrade: info.maxGrade,
    learner: info.learner,
    training: info.training,
    weights,
    dtype: 'float32',
    byteOrder: 'little-endian',
  };
  writeFileAtomic(path.join(folder, 'weights.bin'), bytes);
  writeFileAtomic(path.join(folder, 'model.json'), `${JSON.stringify(description, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  return description;
}

/** Read a model folder written by `saveModel`; every inconsistency is an error naming the file. */
export function loadModel(folder: string): { model: ScoringModel; description: ModelDescription } {
  const jsonFile = path.join(folder, 'model.json');
  const binFile = path.join(folder, 'weights.bin');
  let description: ModelDescription;
  try {
    description = JSON.parse(readFileSync(jsonFile, 'utf8')) as ModelDescription;
  } catch (error) {
    throw new DataFormatError(jsonFile, null, `cannot read the model description: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (description.format !== MODEL_FORMAT) throw new DataFormatError(jsonFile, null, `expected format "${MODEL_FORMAT}", found ${JSON.stringify(description.format)}`);
  if (description.dtype !== 'float32' || description.byteOrder !== 'little-endian') throw new DataFormatError(jsonFile, null, 'expected float32 little-endian weights');
  const bytes = readFileSync(binFile);
  const arrays = description.weights.map((w, i) => {
    const length = w.shape.reduce((a, b) => a * b, 1);
    if ((w.offset + length) * 4 > bytes.length) throw new DataFormatError(binFile, null, `weights[${i}] (${w.name}) runs past the end of the file (${bytes.length} bytes)`);
    return Float32Array.from({ length }, (_, j) => bytes.readFloatLE((w.offset + j) * 4));
  });
  const a = description.architecture;
  const spec: ModelSpec = a.type === 'mlp' ? { type: 'mlp', hidden: a.hidden } : { type: 'linear' };
  let model: ScoringModel;
  try {
    model = new ScoringModel(spec, description.numFeatures, arrays);
  } catch (error) {
    if (error instanceof ConfigError) throw new DataFormatError(jsonFile, null, `the weights do not fit the architecture: ${error.message}`);
    throw error;
  }
  return { model, description };
}

/** Apply a saved normalisation to data read from a LETOR file. */
export function applyNormalization(data: RankingData, normalization: FeatureNormalization): RankingData {
  switch (normalization.type) {
    case 'none':
      return data;
    case 'per-query':
      return normalizePerQuery(data);
    case 'per-feature':
      return normalizeFeatures(data, { min: Float64Array.from(normalization.min), max: Float64Array.from(normalization.max) });
  }
}
