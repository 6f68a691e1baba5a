import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ClickLabError, ConfigError } from '../core/errors.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** The TF.js backend in use: `tensorflow`, `wasm` or `cpu`. */
  readonly name: string;
  /** What it runs on, for reports: e.g. "native TensorFlow (GPU)", "WebAssembly (SIMD, 1 thread)". */
  readonly description: string;
  /** Why the preferred backends were not used (empty when the first choice worked). */
  readonly fallbacks: string[];
}

// Held in variables: these packages are optional and often absent (their install downloads
// libtensorflow), and a literal import() of an absent package would not compile.
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

let current: BackendInfo | null = null;

/**
 * Select the TF.js backend once per process. `auto` tries the native TensorFlow binding
 * (tfjs-node-gpu, then tfjs-node) and falls back to WebAssembly; `tensorflow` fails with the
 * reason when no binding loads.
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new ConfigError('backend', `expected one of ${BACKEND_CHOICES.join(', ')}, found "${String(choice)}"`);
  }
  if (current && (choice === 'auto' || choice === current.name)) return current;
  const fallbacks: string[] = [];
  if (choice === 'auto' || choice === 'tensorflow') {
    const native = await tryNative(fallbacks);
    if (native) return (current = native);
    if (choice === 'tensorflow') {
      throw new ClickLabError(`backend "tensorflow" is not available: ${fallbacks.join('; ')}. Use --backend wasm or cpu.`);
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    const wasmDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    // setWasmPaths needs the folder with a trailing separator: it prefixes file names to it.
    setWasmPaths(wasmDir + path.sep);
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return (current = { name: 'wasm', description: 'WebAssembly (SIMD, 1 thread)', fallbacks });
    }
    fallbacks.push('wasm: tf.setBackend("wasm") failed');
    if (choice === 'wasm') throw new ClickLabError(`backend "wasm" could not be initialised (${wasmDir})`);
  }
  if (!(await tf.setBackend('cpu'))) throw new ClickLabError('backend "cpu" could not be initialised');
  await tf.ready();
  return (current = { name: 'cpu', description: 'plain JavaScript (cpu)', fallbacks });
}

async function tryNative(fallbacks: string[]): Promise<BackendInfo | null> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
    } catch (error) {
      fallbacks.push(`${pkg}: ${firstLine(error)}`);
      continue;
    }
    if (await tf.setBackend('tensorflow')) {
      await tf.ready();
      const gpu = pkg.endsWith('-gpu');
      return { name: 'tensorflow', description: `native TensorFlow via ${pkg}${gpu ? ' (GPU build)' : ' (CPU)'}`, fallbacks };
    }
    fallbacks.push(`${pkg}: loaded, but tf.setBackend("tensorflow") failed`);
  }
  return null;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0];
}
