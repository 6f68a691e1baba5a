import { Worker } from 'node:worker_threads';
import { ClickLabError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import type { BackendChoice } from '../learning/backend.js';
import type { Scenario } from './scenario.js';
import type { WorkerInput, WorkerMessage } from './seed-worker.js';
import type { SeedRun } from './ultr-run.js';

/**
 * Run the scenario's seeds on `workers` worker threads, handing out one seed at a time. Progress
 * counts trained models over all seeds. Results come back in the scenario's seed order.
 */
export async function runSeedsInWorkers(scenario: Scenario, backend: BackendChoice, workers: number, progress: Progress): Promise<SeedRun[]> {
  const entry = new URL('./seed-worker.js', import.meta.url);
  if (entry.pathname.includes('/src/')) {
    // Under a TypeScript runner (vitest) there is no compiled worker file to start.
    throw new ClickLabError('worker threads need the compiled library (npm run build); run with workers = 1 from TypeScript sources');
  }
  const pending = [...scenario.seeds];
  const results = new Map<number, SeedRun>();
  const modelsPerSeed = 2 + scenario.learners.length; // logging ranker, skyline, learners
  const total = scenario.seeds.length * modelsPerSeed;
  let trained = 0;
  progress.start(`${scenario.name}: models trained`, total);

  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(entry, { workerData: { scenario, backend } satisfies WorkerInput });
      const next = () => {
        const seed = pending.shift();
        if (seed === undefined) {
          void worker.terminate().then(() => resolve());
        } else {
          worker.postMessage(seed);
        }
      };
      worker.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'ready':
            next();
            break;
          case 'trained':
            progress.update(++trained, `seed ${message.seed}: ${message.label}`);
            break;
          case 'done':
            results.set(message.run.seed, message.run);
            next();
            break;
          case 'error':
            void worker.terminate();
            reject(new ClickLabError(message.message));
            break;
        }
      });
      worker.on('error', reject);
    });

  await Promise.all(Array.from({ length: workers }, runWorker));
  progress.finish();
  return scenario.seeds.map((seed) => results.get(seed)!);
}
