/**
 * Worker-thread entry of `runExperiment`: runs the (cell, seed) tasks the parent sends, one at a
 * time, and posts each outcome back. Each worker has its own TF.js engine when the study needs
 * one; a task's numbers do not depend on which worker ran it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import type { SeedOutcome } from '../studies/study-kind.js';
import { STUDY_KINDS } from '../studies/registry.js';

export interface TaskWorkerInput {
  readonly study: string;
  /** Parsed cell specs, in cell order. */
  readonly specs: readonly unknown[];
  readonly backend: BackendChoice | null;
}

export interface Task {
  readonly cell: number;
  readonly seed: number;
}

export type TaskWorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'unit'; readonly task: Task; readonly detail: string }
  | { readonly type: 'done'; readonly task: Task; readonly outcome: SeedOutcome }
  | { readonly type: 'error'; readonly message: string };

const port = parentPort!;
const send = (message: TaskWorkerMessage) => port.postMessage(message);
try {
  const { study, specs, backend } = workerData as TaskWorkerInput;
  const kind = STUDY_KINDS[study];
  if (backend) await initBackend(backend);
  const cache = new Map<string, unknown>();
  port.on('message', (task: Task) => {
    kind
      .runSeed(specs[task.cell], task.seed, { cache, onUnit: (detail) => send({ type: 'unit', task, detail }) })
      .then((outcome) => send({ type: 'done', task, outcome }))
      .catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}
