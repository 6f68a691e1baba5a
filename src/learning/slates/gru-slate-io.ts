import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ClickLabError, DataFormatError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import { GruSlateModel, type GruSlateSnapshot } from './gru-slate-model.js';

/**
 * A trained GRU slate model on disk, in the manner of `model-io.ts`: a folder with `model.json`
 * (options, item groups, users with an h0, where each array lies) and `weights.bin` (float32
 * little-endian: each latent's variational mean then scale, h0's last). Any backend loads it.
 */
export const GRU_SLATE_MODEL_FORMAT = 'clicklab/gru-slate-model@1';

interface GruSlateModelFile {
  readonly format: typeof GRU_SLATE_MODEL_FORMAT;
  readonly options: GruSlateSnapshot['options'];
  readonly itemGroup: number[];
  readonly users: number[];
  readonly steps: number;
  readonly arrays: { name: string; shape: [number, number]; meanOffset: number; scaleOffset: number }[];
  /** Where the training data came from and how it went (free-form, for people). */
  readonly training: Readonly<Record<string, unknown>>;
  readonly dtype: 'float32';
  readonly byteOrder: 'little-endian';
}

/** Write `model` to `folder` (created if needed); each file is written aside, then renamed. */
export function saveGruSlateModel(folder: string, model: GruSlateModel, training: Readonly<Record<string, unknown>> = {}): void {
  mkdirSync(folder, { recursive: true });
  const s = model.snapshot();
  let offset = 0;
  const arrays = s.arrays.map((a) => {
    const entry = { name: a.name, shape: a.shape, meanOffset: offset, scaleOffset: offset + a.mean.length };
    offset += 2 * a.mean.length;
    return entry;
  });
  const bytes = Buffer.alloc(offset * 4);
  for (const [i, a] of s.arrays.entries()) {
    for (let j = 0; j < a.mean.length; j++) {
      bytes.writeFloatLE(a.mean[j], (arrays[i].meanOffset + j) * 4);
      bytes.writeFloatLE(a.scale[j], (arrays[i].scaleOffset + j) * 4);
    }
  }
  const file: GruSlateModelFile = {
    format: GRU_SLATE_MODEL_FORMAT,
    options: s.options,
    itemGroup: Array.from(s.itemGroup),
    users: [...s.users],
    steps: s.steps,
    arrays,
    training,
    dtype: 'float32',
    byteOrder: 'little-endian',
  };
  writeFileAtomic(path.join(folder, 'weights.bin'), bytes);
  writeFileAtomic(path.join(folder, 'model.json'), `${JSON.stringify(file, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}

/** Read a folder written by `saveGruSlateModel`; every inconsistency is an error naming the file. */
export function loadGruSlateModel(folder: string): { model: GruSlateModel; training: Readonly<Record<string, unknown>> } {
  const jsonFile = path.join(folder, 'model.json');
  const binFile = path.join(folder, 'weights.bin');
  let file: GruSlateModelFile;
  try {
    file = JSON.parse(readFileSync(jsonFile, 'utf8')) as GruSlateModelFile;
  } catch (error) {
    throw new DataFormatError(jsonFile, null, `cannot read the model description: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (file.format !== GRU_SLATE_MODEL_FORMAT) throw new DataFormatError(jsonFile, null, `expected format "${GRU_SLATE_MODEL_FORMAT}", found ${JSON.stringify(file.format)}`);
  if (file.dtype !== 'float32' || file.byteOrder !== 'little-endian') throw new DataFormatError(jsonFile, null, 'expected float32 little-endian weights');
  const bytes = readFileSync(binFile);
  const read = (offset: number, length: number, what: string) => {
    if ((offset + length) * 4 > bytes.length) throw new DataFormatError(binFile, null, `${what} runs past the end of the file (${bytes.length} bytes)`);
    return Float32Array.from({ length }, (_, j) => bytes.readFloatLE((offset + j) * 4));
  };
  const arrays = file.arrays.map((a) => {
    const length = a.shape[0] * a.shape[1];
    return { name: a.name, shape: a.shape, mean: read(a.meanOffset, length, `${a.name} mean`), scale: read(a.scaleOffset, length, `${a.name} scale`) };
  });
  try {
    const model = GruSlateModel.restore({ options: file.options, itemGroup: Int32Array.from(file.itemGroup), users: file.users, steps: file.steps, arrays });
    return { model, training: file.training };
  } catch (error) {
    if (error instanceof ClickLabError) throw new DataFormatError(jsonFile, null, `the arrays do not fit the model: ${error.message}`);
    throw error;
  }
}
