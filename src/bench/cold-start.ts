/**
 * PBM simulation at cold start: the first runs of `simulateSessions` (top 10, no truth) in a fresh
 * Node process, next to the best run of that process. Each measurement runs in a child process of
 * its own (this file, run as a script), so nothing warmed up before it.
 *
 * What it showed (README "Benchmarks"): most of a first run's time is not V8 but the machine
 * handing out fresh memory. Writing a fresh 16 MB typed array costs ~50 ms here (a page fault
 * per 4 KiB page, ~12 µs each in this Firecracker VM; numpy pays the same, 27 ms for its first
 * write of 16 MB against 0.4 ms for the next), while 200k sessions of top-10 PBM need 16 MB of
 * output. The rows "into memory touched before" take that away: what remains is the JIT's warm-up.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomStream } from '../core/random.js';
import type { ClickLog } from '../core/types.js';
import { PositionBasedModel } from '../simulation/click-models/pbm.js';
import { examinationProbabilities } from '../simulation/examination.js';
import { simulateSessions } from '../simulation/sessions.js';
import { withRatios, type BenchmarkRow } from './rows.js';

const RUNS = 5;
type Mode = 'fresh' | 'touched' | 'first-touch';

/** Sessions/s of RUNS consecutive runs in this process (the child's side). */
function measure(sessions: number, mode: Mode): number[] {
  const rng = randomStream('cold-start');
  const lists = { offsets: Int32Array.from({ length: 1001 }, (_, q) => q * 10), documents: Int32Array.from({ length: 10_000 }, (_, i) => i) };
  const relevance = Float32Array.from({ length: 10_000 }, () => rng.uniform());
  const clickModel = new PositionBasedModel(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10));
  const rows = sessions * 10;
  const output = (): ClickLog => ({
    sessionQuery: new Int32Array(sessions),
    sessionOffsets: new Int32Array(sessions + 1),
    document: new Int32Array(rows),
    position: new Uint16Array(rows),
    click: new Uint8Array(rows),
  });
  const touched = output();
  for (const column of Object.values(touched)) column.fill(1);
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    if (mode === 'first-touch') {
      // Only the cost of the output's fresh memory: write every element of new arrays once.
      for (const column of Object.values(output())) column.fill(1);
    } else {
      const reuse = mode === 'touched' ? { log: touched } : undefined;
      simulateSessions(lists, { numSessions: sessions, clickModel, relevance, rng: rng.derive(String(run)), truth: false, reuse });
    }
    rates.push(sessions / ((performance.now() - started) / 1000));
  }
  return rates;
}

/** Bench rows: first and best run of a fresh process, into fresh memory and into memory touched before. */
export function coldStartRows(sessions: number): BenchmarkRow[] {
  const run = (mode: Mode): number[] => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(sessions), mode], { encoding: 'utf8' })) as number[];
  const fresh = run('fresh');
  const touched = run('touched');
  const firstTouch = run('first-touch');
  return withRatios(`simulation at cold start (PBM, top 10, ${sessions} sessions a run, fresh process)`, 'sessions/s', [
    ['first run, new output arrays (baseline)', fresh[0]],
    [`best of ${RUNS} runs, new output arrays`, Math.max(...fresh)],
    ['first run, into output memory touched before', touched[0]],
    [`best of ${RUNS} runs, into output memory touched before`, Math.max(...touched)],
    ['first write of the new output arrays alone (no simulation)', firstTouch[0]],
  ]);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = process.argv[3] as Mode;
  process.stdout.write(JSON.stringify(measure(Number(process.argv[2]), mode)));
}
