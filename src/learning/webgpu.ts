import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

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

/**
 * What probing found. A failure carries, in `diagnostics`, what Dawn itself wrote on the probe's
 * stderr (e.g. "Warning: Couldn't load Vulkan: libvulkan.so.1: ..."): only `clicklab doctor`
 * shows it.
 */
export type WebGpuProbe = { readonly ok: true; readonly adapter: WebGpuAdapter; readonly version: string } | { readonly ok: false; readonly reason: string; readonly diagnostics?: string };

// Held in variables: optional packages, absent on some installs; a literal import() would not compile.
const DAWN_PACKAGE = 'webgpu';
export const WEBGPU_BACKEND_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

/** How long the probe's child process may take (Dawn on a software adapter starts in ~1 s). */
const PROBE_TIMEOUT_MS = 60_000;

const NO_ADAPTER = 'Dawn found no WebGPU adapter (it needs a Vulkan loader, libvulkan.so.1, and a Vulkan driver: the NVIDIA driver\'s ICD, or Mesa ≥ 24 for a software adapter; see README "Backends")';

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

/** Dawn's options, e.g. CLICKLAB_DAWN_OPTIONS="adapter=NVIDIA H100" or "backend=vulkan" (comma-separated). */
function dawnOptions(): string[] {
  return (process.env.CLICKLAB_DAWN_OPTIONS ?? '').split(',').filter((o) => o.length > 0);
}

/**
 * The probe's child process: load Dawn, ask for the adapter TF.js will ask for, print one line of
 * JSON on stdout and exit (Dawn's instance would otherwise keep Node alive). Dawn writes its own
 * warnings (a missing Vulkan loader, limits it reduced for lavapipe) straight to file descriptor 2
 * from native code; in a child process they go to a pipe that the parent reads and does not print.
 */
function probeScript(dawnUrl: string, options: string[]): string {
  return `
import { writeSync } from 'node:fs';
const out = (result) => { writeSync(1, JSON.stringify(result) + '\\n'); process.exit(0); };
let dawn;
try { dawn = await import(${JSON.stringify(dawnUrl)}); }
catch (error) { out({ stage: 'import', error: String(error?.message ?? error) }); }
let gpu;
try { gpu = dawn.create(${JSON.stringify(options)}); }
catch (error) { out({ stage: 'create', error: String(error?.message ?? error) }); }
let adapter;
try { adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }); }
catch (error) { out({ stage: 'requestAdapter', error: String(error?.message ?? error) }); }
if (!adapter) out({ stage: 'adapter', adapter: null });
const info = adapter.info ?? {};
out({ stage: 'adapter', adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
  isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter } });
`;
}

interface ChildAnswer {
  readonly stage: 'import' | 'create' | 'requestAdapter' | 'adapter';
  readonly error?: string;
  readonly adapter?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean } | null;
}

let probe: Promise<WebGpuProbe> | null = null;

/**
 * Ask Dawn (npm "webgpu") for the high-performance adapter, as TF.js's WebGPU backend will, in a
 * child process (once per process): Dawn's native warnings go to the child's stderr, which is
 * kept only as `diagnostics` of a failure. Installs nothing in this process (see
 * {@link installWebGpu}). Never throws: a missing package or adapter is reported with its reason.
 */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probe ??= Promise.resolve().then(probeInChild);
  return probe;
}

function probeInChild(): WebGpuProbe {
  let dawnUrl: string;
  try {
    dawnUrl = pathToFileURL(createRequire(import.meta.url).resolve(DAWN_PACKAGE)).href;
  } catch (error) {
    return { ok: false, reason: `the optional package "${DAWN_PACKAGE}" is not installed: ${firstLine(error)}` };
  }
  const options = dawnOptions();
  const child = spawnSync(process.execPath, ['--input-type=module', '--eval', probeScript(dawnUrl, options)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: PROBE_TIMEOUT_MS,
    windowsHide: true,
  });
  const diagnostics = dawnDiagnostics(child.stderr ?? '');
  const failed = (reason: string): WebGpuProbe => (diagnostics ? { ok: false, reason, diagnostics } : { ok: false, reason });
  if (child.error) return failed(`the WebGPU probe (a child Node process) did not run: ${firstLine(child.error)}`);
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
  if (!line) {
    const how = child.signal ? `was killed by ${child.signal}` : `exited with status ${String(child.status)}`;
    return failed(`the WebGPU probe (a child Node process loading Dawn) ${how} without an answer`);
  }
  let answer: ChildAnswer;
  try {
    answer = JSON.parse(line) as ChildAnswer;
  } catch {
    return failed(`the WebGPU probe answered something that is not JSON: ${line.slice(0, 200)}`);
  }
  switch (answer.stage) {
    case 'import':
      return failed(`the optional package "${DAWN_PACKAGE}" does not load: ${firstLine(answer.error)}`);
    case 'create':
      return failed(`Dawn did not start with options [${options.join(', ')}]: ${firstLine(answer.error)}`);
    case 'requestAdapter':
      return failed(`requestAdapter failed: ${firstLine(answer.error)}`);
  }
  if (!answer.adapter) return failed(NO_ADAPTER);
  return { ok: true, adapter: toAdapter(answer.adapter), version: packageVersion(DAWN_PACKAGE) };
}

function toAdapter(info: NonNullable<ChildAnswer['adapter']>): WebGpuAdapter {
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  const software = Boolean(info.isFallbackAdapter) || /software|swiftshader|llvmpipe|lavapipe/i.test(`${architecture} ${description} ${info.device ?? ''}`);
  return { vendor: info.vendor ?? '', architecture, device: info.device ?? '', description, software };
}

/**
 * Dawn's messages from the probe's stderr, one line each, for `clicklab doctor`: "Warning:
 * Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: ...", without the native
 * source locations ("at operator() (.../BackendVk.cpp:368)") that follow them.
 */
function dawnDiagnostics(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^at \S+ \(.*\)$/.test(l));
  return [...new Set(lines)].slice(0, 5).join(' | ');
}

/**
 * Whether a GPU WebGPU could use is plausible here, without loading Dawn: on Linux a DRM render
 * node (/dev/dri/renderD*), an NVIDIA device (/dev/nvidia0...) or WSL's /dev/dxg; elsewhere
 * (macOS, Windows) always. `--backend auto` probes WebGPU only then: on a machine without a GPU
 * the only adapter Dawn could find is a software one, which auto never picks anyway.
 * CLICKLAB_DAWN_OPTIONS set means the user points Dawn somewhere: probe too.
 */
export function gpuPlausible(): { readonly plausible: boolean; readonly why: string } {
  if (process.platform !== 'linux') return { plausible: true, why: `${process.platform} (Dawn uses the system's GPU API)` };
  if (dawnOptions().length > 0) return { plausible: true, why: 'CLICKLAB_DAWN_OPTIONS is set' };
  const nodes: string[] = [];
  try {
    nodes.push(
      ...readdirSync('/dev/dri')
        .filter((n) => n.startsWith('renderD'))
        .map((n) => `/dev/dri/${n}`),
    );
  } catch {
    // no /dev/dri
  }
  for (const device of ['/dev/nvidia0', '/dev/nvidiactl', '/dev/dxg']) if (existsSync(device)) nodes.push(device);
  return nodes.length > 0 ? { plausible: true, why: nodes.join(', ') } : { plausible: false, why: 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg)' };
}

let installed: Promise<WebGpuProbe> | null = null;

/**
 * Install Dawn's WebGPU globals and `navigator.gpu` in this process (once) for TF.js's WebGPU
 * backend, after {@link probeWebGpu} found an adapter in a child process. Only for a backend
 * really used: here Dawn's native warnings, if any, reach this process's stderr. Never throws.
 */
export function installWebGpu(): Promise<WebGpuProbe> {
  installed ??= (async (): Promise<WebGpuProbe> => {
    const probed = await probeWebGpu();
    if (!probed.ok) return probed;
    let dawn: Dawn;
    try {
      dawn = (await import(DAWN_PACKAGE)) as Dawn;
    } catch (error) {
      return { ok: false, reason: `the optional package "${DAWN_PACKAGE}" does not load: ${firstLine(error)}` };
    }
    const options = dawnOptions();
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
    return probed;
  })();
  return installed;
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
