/**
 * Worker-thread entry: runs the seeds the parent sends, one at a time, and posts each SeedRun
 * back. Each worker has its own TF.js engine (a TF.js backend uses one thread), so seeds run in
 * parallel; a seed's numbers do not depend on which worker ran it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { prepareData } from './prepare-data.js';
import type { Scenario } from './scenario.js';
import { runSeed, type SeedRun } from './ultr-run.js';

export interface WorkerInput {
  readonly scenario: Scenario;
  readonly backend: BackendChoice;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'trained'; readonly seed: number; readonly label: string }
  | { readonly type: 'done'; readonly run: SeedRun }
  | { readonly type: 'error'; readonly message: string };

const port = parentPort!;
const send = (message: WorkerMessage) => port.postMessage(message);
try {
  const { scenario, backend } = workerData as WorkerInput;
  await initBackend(backend);
  const data = prepareData(scenario);
  port.on('message', (seed: number) => {
    try {
      send({ type: 'done', run: runSeed(scenario, data, seed, { onTrained: (label) => send({ type: 'trained', seed, label }) }) });
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}
