// Focused measurement of simulateSearchLog's worker threads (the bench's parallelSimulationRows,
// with per-thread CPU time): PBM, top 10, file order, hidden truth kept, a sink that drops and
// releases every chunk. Runs workers = 1 and 2 in turns, best of N each, and prints wall time,
// the process's CPU time and this (the main) thread's CPU time (Linux: /proc/thread-self/stat, in
// 10 ms ticks); the rest of the CPU time is the worker's and V8's helper threads'.
//   node scripts/parallel-sim-bench.mjs [distDir=dist] [sessions=16777216] [repeats=5] [truth|notruth]
// Build first (npx tsc -p tsconfig.json). A distDir of an older build compares before and after.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist = 'dist', sessionsArg = '16777216', repeatsArg = '5', truthArg = 'truth'] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(path.resolve(dist, file)).href);
const { fileOrderLists, simulateSearchLog } = await load('simulation/search-log/simulate.js');
const { randomStream } = await load('core/random.js');
const { createClickModel } = await load('simulation/click-models/index.js');

const sessions = Number(sessionsArg);
const repeats = Number(repeatsArg);
const rng = randomStream('parallel');
const numQueries = 1000;
const labels = Int32Array.from({ length: numQueries * 10 }, () => rng.int(3));
const data = {
  source: 'benchmark',
  numFeatures: 1,
  features: new Float32Array(labels.length),
  labels,
  queryOffsets: Int32Array.from({ length: numQueries + 1 }, (_, q) => q * 10),
  qids: Array.from({ length: numQueries }, String),
  docIds: null,
};
const clickModelSpec = { type: 'pbm' };
const spec = {
  lists: fileOrderLists(data, 10),
  cutoff: 10,
  intervention: 'none',
  truth: truthArg !== 'notruth',
  relevance: Float64Array.of(0.1, 0.4, 1),
  clickModel: createClickModel(clickModelSpec, 10),
  clickModelSpec,
  sessions,
};
/** This thread's user + system CPU seconds (fields 14 and 15 of stat, after the command name). */
const threadSeconds = () => {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const run = async (workers) => {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const thread = threadSeconds();
  await simulateSearchLog(data, spec, rng, () => {}, { workers, releaseChunks: true });
  const { user, system } = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) / 1000, cpu: (user + system) / 1e6, main: threadSeconds() - thread };
};
const runs = { 1: [], 2: [] };
for (let r = 0; r < repeats; r++) for (const workers of [1, 2]) runs[workers].push(await run(workers));
const best = (workers, key) => Math.min(...runs[workers].map((r) => r[key]));
console.log(
  `${dist}: ${sessions} sessions, truth ${spec.truth}, best of ${repeats}; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const workers of [1, 2]) {
  const list = runs[workers].map((r) => `${r.wall.toFixed(3)}/${r.cpu.toFixed(3)}/${r.main.toFixed(2)}`).join(' ');
  console.log(
    `workers ${workers}: wall ${best(workers, 'wall').toFixed(3)} s (${(sessions / best(workers, 'wall') / 1e6).toFixed(2)}M sessions/s), CPU ${best(workers, 'cpu').toFixed(3)} s; runs wall/CPU/main-thread CPU: ${list}`,
  );
}
console.log(`wall speed-up ${(best(1, 'wall') / best(2, 'wall')).toFixed(2)}×; CPU time of 2 workers / 1: ${(best(2, 'cpu') / best(1, 'cpu')).toFixed(2)}`);
