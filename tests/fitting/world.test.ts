import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { readClickLog, writeClickLog } from '../../src/data/index.js';
import { evaluateClickModel, fitClickModel, FittedWorld, type FittedWorldJson, openWorld, simulateOnRankings, type SimulatedChunk, type WorldRankings } from '../../src/fitting/index.js';
import { concatChunks } from '../../src/data/log-concat.js';
import { LogEngine } from '../../src/data/engine.js';
import { rankingsOf } from '../helpers/world-rankings.js';
import { DynamicBayesianNetworkModel, PositionBasedModel } from '../../src/simulation/click-models/index.js';
import { EYE_TRACKING_PROFILE } from '../../src/simulation/examination.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

// 20 queries × 6 documents in a fixed order: 20 distinct rankings, drawn uniformly.
const Q = 20;
const lists = { offsets: Int32Array.from({ length: Q + 1 }, (_, q) => q * 6), documents: Int32Array.from({ length: Q * 6 }, (_, i) => 1000 + i) };
const relevance = (() => {
  const rng = randomStream('fit-world/relevance');
  return Float32Array.from({ length: 2000 }, () => 0.1 + 0.8 * rng.uniform());
})();

function simulatedLog(clickModel: PositionBasedModel | DynamicBayesianNetworkModel, sessions: number) {
  return simulateSessions(lists, { numSessions: sessions, clickModel, relevance, rng: randomStream('fit-world/log'), truth: false }).log;
}

/** Every session simulated on `world`, in one log (truth included); its progress checked: every session drawn, then every one written. */
async function simulated(world: WorldRankings, sessions: number, seed: string, bucketSessions?: number) {
  const chunks: SimulatedChunk[] = [];
  const progress: string[] = [];
  await simulateOnRankings(world, sessions, randomStream(seed), async (chunk) => void chunks.push(chunk), {
    truth: true,
    chunkSessions: 1000,
    bucketSessions,
    onProgress: (phase, n) => progress.push(`${phase} ${n}`),
  });
  const drawn = progress.filter((event) => event.startsWith('drawn')).map((event) => Number(event.split(' ')[1]));
  const written = progress.slice(drawn.length).map((event) => (event.startsWith('written ') ? Number(event.slice(8)) : Number.NaN));
  expect(drawn.at(-1)).toBe(sessions);
  expect(written.every((n, i) => n > (i === 0 ? 0 : written[i - 1]))).toBe(true);
  expect(written.at(-1)).toBe(sessions);
  return concatChunks(chunks);
}

describe('fitted worlds', () => {
  it('save to JSON and load back to the same model, with the same quality', () => {
    const log = simulatedLog(new DynamicBayesianNetworkModel(0.85, 'attractiveness'), 20_000);
    const report = fitClickModel(log, { model: 'dbn', iterations: 10 });
    const world = FittedWorld.fromFit(report, 'memory');
    const back = FittedWorld.fromJSON(JSON.parse(JSON.stringify(world.toJSON())), 'world.json');
    expect(back.toJSON()).toEqual(world.toJSON());
    expect(evaluateClickModel(back.model, report.log, report.test)).toEqual(report.testQuality);
    expect(world.rankingSessions.reduce((s, n) => s + n, 0)).toBe(20_000);
    expect(world.rankingSessions.length).toBe(Q);
  });

  for (const model of ['dbn', 'ubm'] as const) {
    it(`${model}: save as a Parquet world (a folder); streamed from it through DuckDB, the same sessions byte for byte as from memory`, async () => {
      const log = simulatedLog(new DynamicBayesianNetworkModel(0.85, 'attractiveness'), 5000);
      const world = FittedWorld.fromFit(fitClickModel(log, { model, iterations: 5 }), 'memory');
      const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-parquet-world-'));
      const folder = path.join(dir, 'world');
      await world.save(folder);
      expect(readdirSync(folder).sort()).toEqual(['pairs.parquet', 'rankings.parquet', 'world.json']);
      // Saved again over the first: replaced whole, nothing left beside it.
      await world.save(folder);
      expect(readdirSync(dir)).toEqual(['world']);
      const back = await openWorld(folder);
      try {
        expect(back.model).toBe(model);
        for (const bucketSessions of [undefined, 700]) {
          const a = await simulated(world.rankings(), 3000, 'parquet-world', bucketSessions);
          const b = await simulated(back, 3000, 'parquet-world', bucketSessions);
          for (const key of ['sessionQuery', 'sessionOffsets', 'document', 'position', 'click'] as const) expect(Buffer.from(b.log[key].buffer).equals(Buffer.from(a.log[key].buffer))).toBe(true);
          expect(Buffer.from(b.propensity!.buffer).equals(Buffer.from(a.propensity!.buffer))).toBe(true);
          expect(Buffer.from(b.truth!.examinationProbability.buffer).equals(Buffer.from(a.truth!.examinationProbability.buffer))).toBe(true);
          expect(Buffer.from(b.truth!.relevanceProbability.buffer).equals(Buffer.from(a.truth!.relevanceProbability.buffer))).toBe(true);
        }
      } finally {
        back.close();
      }
      rmSync(dir, { recursive: true, force: true });
    });
  }

  it('refuse a Parquet world whose files do not fit together, naming the file', async () => {
    const world = FittedWorld.fromFit(fitClickModel(simulatedLog(new PositionBasedModel(Float64Array.from(EYE_TRACKING_PROFILE)), 500), { model: 'pbm', iterations: 2 }), 'memory');
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-parquet-world-'));
    const folder = path.join(dir, 'world');
    await world.save(folder);
    // rankings.parquet of another world beside this world.json: rows whose ranking numbers skip.
    const gapped = path.join(dir, 'gapped.parquet');
    const engine = await LogEngine.open({ threads: 1 });
    await engine.run(`COPY (SELECT CASE WHEN ranking > 0 THEN ranking + 1 ELSE ranking END AS ranking, * EXCLUDE (ranking) FROM '${path.join(folder, 'rankings.parquet')}') TO '${gapped}'`);
    engine.close();
    renameSync(gapped, path.join(folder, 'rankings.parquet'));
    const opened = await openWorld(folder);
    await expect(rankingsOf(opened)).rejects.toThrow(/rankings\.parquet: row \d+: expected the rows of ranking 1 after those of ranking 0 .*found ranking 2/);
    opened.close();
    rmSync(path.join(folder, 'rankings.parquet'));
    await expect(openWorld(folder)).rejects.toThrow(/rankings\.parquet: expected the Parquet world's rankings with columns ranking, query, document, sessions, propensity, attractiveness/);
    await world.save(folder);
    const meta = JSON.parse(readFileSync(path.join(folder, 'world.json'), 'utf8'));
    writeFileSync(path.join(folder, 'world.json'), JSON.stringify({ ...meta, parameters: { examination: [...meta.parameters.examination.slice(0, 5), 1.5] } }));
    const badExamination = await openWorld(folder);
    await expect(simulated(badExamination, 10, 'bad')).rejects.toThrow(/world: "parameters\.examination\[5\]": expected a probability in \[0, 1\], found 1\.5/);
    badExamination.close();
    writeFileSync(path.join(folder, 'world.json'), '{"format": "other"}');
    await expect(openWorld(folder)).rejects.toThrow(/world\.json: expected "format": "clicklab\/fitted-world-parquet@2"/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("draw each session's ranking independently: spilled buckets give the logged shares and no runs of one ranking", async () => {
    const log = simulatedLog(new PositionBasedModel(Float64Array.from(EYE_TRACKING_PROFILE)), 20_000);
    const world = FittedWorld.fromFit(fitClickModel(log, { model: 'pbm', iterations: 3 }), 'memory');
    const N = 50_000;
    // 8 buckets of ~6,250 sessions, spilled to files as they fill.
    const { log: out } = await simulated(world.rankings(), N, 'buckets', 6250);
    expect(out.sessionQuery.length).toBe(N);
    const again = await simulated(world.rankings(), N, 'buckets', 6250);
    expect(Buffer.from(again.log.click.buffer).equals(Buffer.from(out.click.buffer))).toBe(true);
    const total = world.rankingSessions.reduce((s, n) => s + n, 0);
    const share = new Float64Array(Q);
    for (let r = 0; r < Q; r++) share[world.pairQuery[world.rankingPairs[world.rankingOffsets[r]]]] = world.rankingSessions[r] / total;
    const perQuery = new Float64Array(Q);
    for (const q of out.sessionQuery) perQuery[q]++;
    for (let q = 0; q < Q; q++) expect(Math.abs(perQuery[q] / N - share[q])).toBeLessThan(4 * Math.sqrt((share[q] * (1 - share[q])) / N));
    // Neighbours show the same query with probability Σ p², as in independent draws (grouped sessions would give ~1).
    let same = 0;
    for (let s = 1; s < N; s++) same += out.sessionQuery[s] === out.sessionQuery[s - 1] ? 1 : 0;
    const p2 = share.reduce((sum, p) => sum + p * p, 0);
    expect(Math.abs(same / (N - 1) - p2)).toBeLessThan(4 * Math.sqrt((p2 * (1 - p2)) / (N - 1)) + 0.002);
  });

  it('simulate logged rankings by frequency, and clicks at the fitted model’s rates', async () => {
    const log = simulatedLog(new PositionBasedModel(Float64Array.from(EYE_TRACKING_PROFILE)), 20_000);
    const world = FittedWorld.fromFit(fitClickModel(log, { model: 'pbm', iterations: 10 }), 'memory');
    const N = 100_000;
    const { log: simulated, truth } = await world.simulate(N, randomStream('fit-world/simulate'));
    expect(Array.from((await world.simulate(50, randomStream('same'))).log.click)).toEqual(Array.from((await world.simulate(50, randomStream('same'))).log.click));
    // Expected clicks per rank: Σ_rankings P(ranking) P(C_k = 1 | ranking), from the fitted model's closed form.
    const total = world.rankingSessions.reduce((s, n) => s + n, 0);
    const expected = new Float64Array(6);
    const probs = new Float64Array(6);
    const simulator = world.model.simulator();
    for (let r = 0; r < world.rankingSessions.length; r++) {
      const from = world.rankingOffsets[r];
      const attractiveness = Array.from(world.rankingPairs.subarray(from, from + 6), (p) => world.model.attractiveness.value[p]);
      simulator.prepare(world.rankingPairs, from, 6);
      simulator.clickModel.clickProbabilities(attractiveness, 6, probs);
      for (let k = 0; k < 6; k++) expected[k] += (world.rankingSessions[r] / total) * probs[k];
    }
    const clicks = new Float64Array(6);
    for (let row = 0; row < simulated.click.length; row++) clicks[simulated.position[row]] += simulated.click[row];
    for (let k = 0; k < 6; k++) expect(Math.abs(clicks[k] / N - expected[k])).toBeLessThan(4 * Math.sqrt((expected[k] * (1 - expected[k])) / N));
    // Each query's share of sessions: binomial around its logged share.
    const perQuery = new Float64Array(Q);
    for (const q of simulated.sessionQuery) perQuery[q]++;
    for (let r = 0; r < Q; r++) {
      const q = world.pairQuery[world.rankingPairs[world.rankingOffsets[r]]];
      const share = world.rankingSessions[r] / total;
      expect(Math.abs(perQuery[q] / N - share)).toBeLessThan(4 * Math.sqrt((share * (1 - share)) / N));
    }
    // Documents are the logged ones, and the hidden truth carries the fitted attractiveness.
    expect(new Set(simulated.document)).toEqual(new Set(lists.documents));
    const pairOf = new Map(Array.from(world.pairQuery, (q, p) => [`${q}/${world.pairDocument[p]}`, p]));
    for (let s = 0; s < 100; s++) {
      for (let row = simulated.sessionOffsets[s]; row < simulated.sessionOffsets[s + 1]; row++) {
        const p = pairOf.get(`${simulated.sessionQuery[s]}/${simulated.document[row]}`)!;
        expect(truth.relevanceProbability[row]).toBe(Math.fround(world.model.attractiveness.value[p]));
      }
    }
  });

  it('give each simulated slot the logged probability of its document at its position (pscore)', async () => {
    // Query 7 logged [1, 2] three times and [2, 1] once; query 8 logged [5] twice.
    const rankings = [[1, 2], [1, 2], [2, 1], [1, 2], [5], [5]];
    const queries = [7, 7, 7, 7, 8, 8];
    const offsets = [0];
    for (const r of rankings) offsets.push(offsets[offsets.length - 1] + r.length);
    const log = {
      sessionQuery: Int32Array.from(queries),
      sessionOffsets: Int32Array.from(offsets),
      document: Int32Array.from(rankings.flat()),
      position: Uint16Array.from(rankings.flatMap((r) => r.map((_, k) => k))),
      click: new Uint8Array(offsets[offsets.length - 1]),
    };
    const world = FittedWorld.fromFit(fitClickModel(log, { model: 'pbm', iterations: 1, testFraction: 0 }), 'memory');
    const { log: simulated, propensity } = await world.simulate(200, randomStream('pscore'));
    const expected: Record<string, number> = { '7/1/0': 0.75, '7/2/1': 0.75, '7/2/0': 0.25, '7/1/1': 0.25, '8/5/0': 1 };
    for (let s = 0; s < 200; s++) {
      for (let row = simulated.sessionOffsets[s]; row < simulated.sessionOffsets[s + 1]; row++) {
        expect(propensity![row]).toBe(Math.fround(expected[`${simulated.sessionQuery[s]}/${simulated.document[row]}/${simulated.position[row]}`]));
      }
    }
  });

  it('reject a malformed file, naming it and the field', () => {
    const world = FittedWorld.fromFit(fitClickModel(simulatedLog(new PositionBasedModel(Float64Array.from(EYE_TRACKING_PROFILE)), 500), { model: 'pbm', iterations: 2 }), 'memory');
    const json = world.toJSON() as unknown as { parameters: { examination: number[] } } & FittedWorldJson;
    expect(() => FittedWorld.fromJSON({ ...json, format: 'other' }, 'w.json')).toThrow(DataFormatError);
    expect(() => FittedWorld.fromJSON({ ...json, format: 'other' }, 'w.json')).toThrow(/w\.json: expected "format": "clicklab\/fitted-click-model@1"/);
    const bad = { ...json, parameters: { examination: [...json.parameters.examination.slice(0, 5), 1.5] } };
    expect(() => FittedWorld.fromJSON(bad, 'w.json')).toThrow(/w\.json: "parameters\.examination\[5\]": expected a probability in \[0, 1\], found 1\.5/);
    expect(() => FittedWorld.fromJSON({ ...json, listLength: 3 }, 'w.json')).toThrow(/ranking 0 has 6 results; expected 1 to the list length 3/);
  });
});

describe('clicklab fit and clicklab simulate --world', () => {
  const cli = path.resolve('dist/cli/main.js');

  it('fit a log, print the quality table, and simulate a semi-synthetic log from the saved world', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-fit-'));
    const logFile = path.join(dir, 'log.csv');
    await writeClickLog(logFile, { log: simulatedLog(new DynamicBayesianNetworkModel(0.85, 'attractiveness'), 4000) });
    const fitted = path.join(dir, 'fitted.json');
    const stdout = execFileSync(process.execPath, [cli, 'fit', '--model', 'sdbn', '--log', logFile, '--out', fitted, '--iterations', '5', '--quiet'], { encoding: 'utf8' });
    expect(stdout).toMatch(/sdbn fitted to .*log\.csv: 3000 training sessions, 1000 test sessions, 120 \(query, document\) pairs; 5 EM iterations/);
    expect(stdout).toMatch(/log-likelihood +-0\.\d{4} +-0\.\d{4}/);
    expect(stdout).toMatch(/perplexity @6 +1\.\d{4} +1\.\d{4}/);
    expect(JSON.parse(readFileSync(fitted, 'utf8')).model).toBe('sdbn');
    const out = path.join(dir, 'sim.parquet');
    execFileSync(process.execPath, [cli, 'simulate', '--world', fitted, '--out', out, '--sessions', '2000', '--seed', '4', '--quiet'], { stdio: 'pipe' });
    const { log, propensity } = await readClickLog(out);
    expect(log.sessionQuery.length).toBe(2000);
    expect(new Set(propensity)).toEqual(new Set([1])); // one logged ranking per query
    expect(new Set(log.document)).toEqual(new Set(lists.documents));

    writeFileSync(path.join(dir, 'bad.json'), '{"format": "clicklab/fitted-click-model@1", "model": "xyz"}');
    let stderr = '';
    try {
      execFileSync(process.execPath, [cli, 'simulate', '--world', path.join(dir, 'bad.json'), '--out', out], { stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toMatch(/bad\.json: "model": expected one of pbm, cm, dcm, dbn, sdbn, ubm, ccm, found "xyz"/);
  });
});
