import { createRequire } from 'node:module';

/**
 * WebGPU in Node through the optional `webgpu` package (Google's Dawn, prebuilt). TF.js's WebGPU
 * backend registers itself at import time only when `navigator.gpu` exists, so the Dawn globals
 * (GPUBufferUsage, ...) and `navigator.gpu` must be in place before it is imported.
 */

/** What the adapter says about itself (GPUAdapterInfo), and whether it is a software one. */
export interface WebGpuAdapter {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /**
   * True for a fallback adapter (the spec's isFallbackAdapter: Dawn sets it for CPU
   * implementations such as Mesa's lavapipe/llvmpipe or SwiftShader), or one whose architecture
   * or description says so. Slower than wasm for clicklab's models: `auto` never picks it.
   */
  readonly software: boolean;
}

export type WebGpuProbe = { readonly ok: true; readonly adapter: WebGpuAdapter; readonly version: string } | { readonly ok: false; readonly reason: string };

// Held in variables: optional packages, absent on some installs; a literal import() would not compile.
const DAWN_PACKAGE = 'webgpu';
export const WEBGPU_BACKEND_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

interface Dawn {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}

let probe: Promise<WebGpuProbe> | null = null;

/**
 * Install Dawn's WebGPU globals and `navigator.gpu` (once per process) and ask for the
 * high-performance adapter, as TF.js's WebGPU backend will. Never throws: a missing package or
 * adapter is reported with its reason.
 */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probe ??= (async (): Promise<WebGpuProbe> => {
    let dawn: Dawn;
    try {
      dawn = (await import(DAWN_PACKAGE)) as Dawn;
    } catch (error) {
      return { ok: false, reason: `the optional package "${DAWN_PACKAGE}" does not load: ${firstLine(error)}` };
    }
    // Dawn's options, e.g. CLICKLAB_DAWN_OPTIONS="adapter=NVIDIA H100" or "backend=vulkan" (comma-separated).
    const options = (process.env.CLICKLAB_DAWN_OPTIONS ?? '').split(',').filter((o) => o.length > 0);
    let gpu: GpuLike;
    try {
      gpu = dawn.create(options);
    } catch (error) {
      return { ok: false, reason: `Dawn did not start with options [${options.join(', ')}]: ${firstLine(error)}` };
    }
    Object.assign(globalThis, dawn.globals);
    // Node ≥ 21 has a global navigator (without gpu); Node 20 has none.
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    let adapter: AdapterLike | null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    } catch (error) {
      return { ok: false, reason: `requestAdapter failed: ${firstLine(error)}` };
    }
    if (!adapter) {
      return {
        ok: false,
        reason:
          'Dawn found no WebGPU adapter (it needs a Vulkan loader, libvulkan.so.1, and a Vulkan driver: the NVIDIA driver\'s ICD, or Mesa ≥ 24 for a software adapter; see README "Backends")',
      };
    }
    const info = adapter.info ?? {};
    const architecture = info.architecture ?? '';
    const description = info.description ?? '';
    const software = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || /software|swiftshader|llvmpipe|lavapipe/i.test(`${architecture} ${description} ${info.device ?? ''}`);
    return {
      ok: true,
      adapter: { vendor: info.vendor ?? '', architecture, device: info.device ?? '', description, software },
      version: packageVersion(DAWN_PACKAGE),
    };
  })();
  return probe;
}

/** One line for reports: "mesa software (llvmpipe: Mesa 25.0.7 ...), software adapter". */
export function describeAdapter(adapter: WebGpuAdapter): string {
  const name = [adapter.vendor, adapter.architecture].filter((s) => s.length > 0).join(' ') || 'unknown vendor';
  const detail = adapter.description || adapter.device;
  return `${name}${detail ? ` (${detail})` : ''}, ${adapter.software ? 'software (fallback) adapter' : 'hardware adapter'}`;
}

/** The installed version of a package, or "not installed". */
export function packageVersion(name: string): string {
  try {
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0];
}
