import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ClickLabError, ConfigError } from '../core/errors.js';
import { describeAdapter, firstLine, gpuPlausible, installWebGpu, packageVersion, probeWebGpu, WEBGPU_BACKEND_PACKAGE } from './webgpu.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** The TF.js backend in use: `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  readonly name: string;
  /** What it runs on, for reports: e.g. "native TensorFlow 2.9.1 on GPU (...)", "WebAssembly (SIMD, 1 thread)". */
  readonly description: string;
  /** Why the preferred backends were not used (empty when the first choice worked). */
  readonly fallbacks: string[];
  /** Whether tensors can be read synchronously (dataSync): false for WebGPU in Node. */
  readonly syncReads: boolean;
}

/** One line of `clicklab doctor`: a way to run TF.js, and whether it works here. */
export interface BackendStatus {
  readonly backend: 'tensorflow (GPU)' | 'tensorflow (CPU)' | 'webgpu' | 'wasm' | 'cpu';
  readonly available: boolean;
  /** Versions and device or adapter when available; why not otherwise. */
  readonly detail: string;
}

// Held in variables: these packages are optional and often absent (their install downloads
// libtensorflow), and a literal import() of an absent package would not compile.
const NATIVE_GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
const NATIVE_CPU_PACKAGE = '@tensorflow/tfjs-node';

/**
 * What tfjs-node-gpu 4.22 needs (its libtensorflow is TensorFlow 2.9.1's C library since
 * tensorflow/tfjs#6786, built against
 * CUDA 11.2 and cuDNN 8.1; NVIDIA driver ≥ 450). With other CUDA versions TensorFlow cannot open
 * libcudart.so.11.0 etc., logs "Skipping registering GPU devices" and runs on the CPU.
 */
export const NATIVE_GPU_REQUIREMENTS = 'CUDA 11.2 (libcudart.so.11.0, libcublas.so.11, ...) and cuDNN 8.1 (libcudnn.so.8) on LD_LIBRARY_PATH, NVIDIA driver ≥ 450';

/** The native binding's backend object (NodeJSKernelBackend): the fields clicklab reads. */
interface NativeBackend {
  /** Set by the binding when TensorFlow listed a GPU device; every op is then placed on it. */
  readonly isUsingGpuDevice?: boolean;
  readonly binding?: { readonly TF_Version?: string };
}

interface NativeProbe {
  readonly pkg: string;
  readonly gpu: boolean;
  readonly description: string;
}

let current: BackendInfo | null = null;

/**
 * Select the TF.js backend once per process. `auto` takes, in order: native TensorFlow on a GPU
 * (tfjs-node-gpu, when TensorFlow really placed its device on a GPU), WebGPU on a hardware adapter
 * (probed, in a child process, only where a GPU device node exists), native TensorFlow on the CPU, WebAssembly, plain JavaScript. A software WebGPU adapter (Mesa's
 * lavapipe) is slower than wasm and only used when asked for (`webgpu`). A named backend fails
 * with the reason when it does not work.
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new ConfigError('backend', `expected one of ${BACKEND_CHOICES.join(', ')}, found "${String(choice)}"`);
  }
  if (current && (choice === 'auto' || choice === current.name)) return current;
  const fallbacks: string[] = [];
  const use = async (name: string, description: string): Promise<BackendInfo> => {
    if (!(await tf.setBackend(name))) throw new ClickLabError(`backend "${name}" could not be initialised`);
    await tf.ready();
    return (current = { name, description, fallbacks, syncReads: name !== 'webgpu' });
  };

  if (choice === 'auto' || choice === 'tensorflow') {
    const native = await loadNative(fallbacks);
    if (native && (native.gpu || choice === 'tensorflow')) return use('tensorflow', native.description);
    if (native) fallbacks.push(`tensorflow: ${native.description}; preferring a GPU`);
    if (choice === 'tensorflow') {
      throw new ClickLabError(`backend "tensorflow" is not available: ${fallbacks.join('; ')}. Use --backend wasm or cpu.`);
    }
    const webgpu = await loadWebGpu('auto');
    if (webgpu.ok && !webgpu.software) return use('webgpu', webgpu.description);
    fallbacks.push(`webgpu: ${webgpu.ok ? `${webgpu.description}: slower than wasm, used only with --backend webgpu` : webgpu.reason}`);
    if (native) return use('tensorflow', native.description);
  }
  if (choice === 'webgpu') {
    const webgpu = await loadWebGpu('use');
    if (!webgpu.ok) throw new ClickLabError(`backend "webgpu" is not available: ${webgpu.reason}`);
    return use('webgpu', webgpu.description);
  }
  if (choice === 'auto' || choice === 'wasm') {
    const wasm = await initWasm();
    if (wasm.ok) return (current = { name: 'wasm', description: wasm.description, fallbacks, syncReads: true });
    fallbacks.push(`wasm: ${wasm.reason}`);
    if (choice === 'wasm') throw new ClickLabError(`backend "wasm" could not be initialised: ${wasm.reason}`);
  }
  return use('cpu', 'plain JavaScript (cpu)');
}

/**
 * Every backend clicklab knows, whether it works on this machine and why not, with versions and
 * the device or adapter. Switches TF.js to each backend in turn and back to the one in use.
 */
export async function backendReport(): Promise<BackendStatus[]> {
  const before = tf.getBackend();
  const report: BackendStatus[] = [];
  const reasons: string[] = [];
  const native = await loadNative(reasons);
  const gpuReason = reasons.find((r) => r.startsWith(`${NATIVE_GPU_PACKAGE}:`)) ?? (native && !native.gpu ? `${native.pkg}: ${native.description}` : `${NATIVE_GPU_PACKAGE} not tried`);
  report.push(native?.gpu ? { backend: 'tensorflow (GPU)', available: true, detail: native.description } : { backend: 'tensorflow (GPU)', available: false, detail: gpuReason });
  report.push(
    native && !native.gpu
      ? { backend: 'tensorflow (CPU)', available: true, detail: native.description }
      : native
        ? { backend: 'tensorflow (CPU)', available: true, detail: `${native.pkg} places ops on the GPU; the CPU build is not needed` }
        : { backend: 'tensorflow (CPU)', available: false, detail: reasons.find((r) => r.startsWith(`${NATIVE_CPU_PACKAGE}:`)) ?? reasons.join('; ') },
  );
  // Probed in a child process whether or not auto would: Dawn's own messages explain a failure.
  const webgpu = await loadWebGpu('report');
  const gpu = gpuPlausible();
  const autoNote = gpu.plausible ? '' : `; auto does not probe it here: ${gpu.why}`;
  report.push(
    webgpu.ok
      ? { backend: 'webgpu', available: true, detail: `${webgpu.description}${webgpu.software ? ' (auto skips a software adapter: slower than wasm)' : autoNote ? ` (${autoNote.slice(2)})` : ''}` }
      : { backend: 'webgpu', available: false, detail: `${webgpu.reason}${webgpu.diagnostics ? `; Dawn said: ${webgpu.diagnostics}` : ''}${autoNote}` },
  );
  const wasm = await initWasm();
  report.push(wasm.ok ? { backend: 'wasm', available: true, detail: wasm.description } : { backend: 'wasm', available: false, detail: wasm.reason });
  report.push({ backend: 'cpu', available: await tf.setBackend('cpu'), detail: `plain JavaScript, @tensorflow/tfjs ${tf.version.tfjs}` });
  if (before) await tf.setBackend(before);
  return report;
}

/**
 * Load the native binding (tfjs-node-gpu, then tfjs-node) and say where TensorFlow places ops.
 * tfjs-node-gpu loads even without CUDA (TensorFlow then logs "Could not load dynamic library
 * 'libcudart.so.11.0'" and runs on the CPU): loading is not enough, the binding's
 * isUsingGpuDevice says whether TensorFlow listed a GPU device, on which the binding then places
 * every op. Does not switch the current backend.
 */
async function loadNative(fallbacks: string[]): Promise<NativeProbe | null> {
  for (const pkg of [NATIVE_GPU_PACKAGE, NATIVE_CPU_PACKAGE]) {
    try {
      await import(pkg);
    } catch (error) {
      const absent = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && firstLine(error).includes(pkg);
      fallbacks.push(`${pkg}: ${absent ? 'not installed (optional: its install script downloads libtensorflow)' : firstLine(error)}`);
      continue;
    }
    // The factory is synchronous: findBackend initialises it without making it current.
    const backend = tf.findBackend('tensorflow') as NativeBackend | null;
    if (!backend) {
      fallbacks.push(`${pkg}: loaded, but the "tensorflow" backend did not initialise`);
      continue;
    }
    const versions = `${pkg} ${packageVersion(pkg)}, TensorFlow ${backend.binding?.TF_Version ?? '(version unknown)'}`;
    const onGpu = backend.isUsingGpuDevice === true;
    if (pkg === NATIVE_GPU_PACKAGE && !onGpu) {
      fallbacks.push(`${pkg}: loaded, but TensorFlow found no GPU device (it needs ${NATIVE_GPU_REQUIREMENTS}; TF_CPP_MIN_LOG_LEVEL=0 shows which library it could not open)`);
    }
    return { pkg, gpu: onGpu, description: `native TensorFlow on ${onGpu ? 'GPU' : 'CPU'} (${versions})` };
  }
  return null;
}

type WebGpuLoad = { ok: true; software: boolean; description: string } | { ok: false; reason: string; diagnostics?: string };

/**
 * WebGPU for `mode`: `use` (--backend webgpu) probes, installs Dawn in this process and imports
 * TF.js's WebGPU backend (which needs navigator.gpu at import); `auto` probes only where a GPU is
 * plausible and installs only a hardware adapter; `report` (clicklab doctor) probes and installs
 * nothing. The probe runs Dawn in a child process, so looking for an adapter prints nothing here
 * (Dawn writes its warnings from native code: "Couldn't load Vulkan", lavapipe's reduced limits).
 */
async function loadWebGpu(mode: 'use' | 'auto' | 'report'): Promise<WebGpuLoad> {
  if (mode === 'auto') {
    const gpu = gpuPlausible();
    if (!gpu.plausible) return { ok: false, reason: `not probed by auto: ${gpu.why} (--backend webgpu and clicklab doctor probe it)` };
  }
  const probe = await probeWebGpu();
  if (!probe.ok) return probe;
  const description = `WebGPU on ${describeAdapter(probe.adapter)} (webgpu ${probe.version}, ${WEBGPU_BACKEND_PACKAGE} ${packageVersion(WEBGPU_BACKEND_PACKAGE)})`;
  if (mode === 'report' || (mode === 'auto' && probe.adapter.software)) return { ok: true, software: probe.adapter.software, description };
  const installed = await installWebGpu();
  if (!installed.ok) return installed;
  try {
    await import(WEBGPU_BACKEND_PACKAGE);
  } catch (error) {
    return { ok: false, reason: `${WEBGPU_BACKEND_PACKAGE} does not load: ${firstLine(error)}` };
  }
  return { ok: true, software: probe.adapter.software, description };
}

async function initWasm(): Promise<{ ok: true; description: string } | { ok: false; reason: string }> {
  const wasmDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  // setWasmPaths needs the folder with a trailing separator: it prefixes file names to it.
  setWasmPaths(wasmDir + path.sep);
  if (!(await tf.setBackend('wasm'))) return { ok: false, reason: `tf.setBackend("wasm") failed (${wasmDir})` };
  await tf.ready();
  return { ok: true, description: `WebAssembly (SIMD, 1 thread; @tensorflow/tfjs-backend-wasm ${packageVersion('@tensorflow/tfjs-backend-wasm')})` };
}
