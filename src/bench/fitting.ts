import { randomStream } from '../core/random.js';
import { fitClickModel, FITTED_MODEL_TYPES } from '../fitting/index.js';
import { DynamicBayesianNetworkModel } from '../simulation/click-models/index.js';
import { simulateSessions } from '../simulation/sessions.js';
import type { BenchmarkRow } from './rows.js';

/**
 * Click-model fitting throughput: each model fitted by 50 EM iterations (PyClick's default; CM's
 * closed form is one pass) to the same log of `sessions` top-10 sessions (1,000 queries × 10
 * documents, shown in random order, DBN clicks), on one core, with no test split. Two rows per
 * model: sessions processed per second in one EM iteration, the wall time of the whole fit
 * (indexing the pairs, the iterations, scoring the log-likelihood and perplexity), and its CPU
 * time, which a machine shared with other work inflates less than the wall time; PBM's is the
 * baseline of each.
 */
export function fittingRows(sessions: number): BenchmarkRow[] {
  const rng = randomStream('fitting-bench');
  const numQueries = 1000;
  const lists = { offsets: Int32Array.from({ length: numQueries + 1 }, (_, q) => q * 10), documents: Int32Array.from({ length: 10 * numQueries }, (_, i) => i) };
  const relevance = Float32Array.from({ length: 10 * numQueries }, () => 0.05 + 0.9 * rng.uniform());
  const { log } = simulateSessions(lists, { numSessions: sessions, clickModel: new DynamicBayesianNetworkModel(0.9, 'attractiveness'), relevance, rng, intervention: 'shuffle', truth: false });
  const perIteration: [string, number][] = [];
  const total: [string, number][] = [];
  const cpu: [string, number][] = [];
  for (const model of FITTED_MODEL_TYPES) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const report = fitClickModel(log, { model, testFraction: 0 });
    const used = process.cpuUsage(cpuStarted);
    total.push([model, (performance.now() - started) / 1000]);
    cpu.push([model, (used.user + used.system) / 1e6]);
    perIteration.push([model, (sessions * report.iterations) / report.fitSeconds]);
  }
  const size = `${sessions.toLocaleString('en-US')} sessions, top 10, one core`;
  const rows = (group: string, unit: string, measured: [string, number][]): BenchmarkRow[] => measured.map(([name, value]) => ({ group, name, unit, value, ratio: value / measured[0][1] }));
  return [
    ...rows(`click-model fitting: one EM iteration (${size})`, 'sessions/s', perIteration),
    ...rows(`click-model fitting: whole fit, 50 EM iterations (${size})`, 's', total),
    ...rows(`click-model fitting: whole fit, CPU time of this process (${size})`, 's', cpu),
  ];
}
