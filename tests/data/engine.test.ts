import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog } from '../../src/core/types.js';
import { readClickLog, writeClickLog } from '../../src/data/click-log-io.js';
import { portableCountsQuery } from '../../src/data/counts-sql.js';
import { PairClasses } from '../../src/data/count-classes.js';
import { LogEngine } from '../../src/data/engine.js';
import { concatChunks } from '../../src/data/log-concat.js';
import { classSlotCounts, evaluateSlotCounts, fitFromCounts, onPairs } from '../../src/fitting/counts.js';
import { fitClickModel, fitWithEngine, openWorld, type SimulatedChunk, simulateOnRankings } from '../../src/fitting/index.js';
import { propensitiesOf, rankingsOf } from '../helpers/world-rankings.js';
import { UserBrowsingModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-engine-'));
const lists = { offsets: Int32Array.of(0, 3, 8, 12), documents: Int32Array.from({ length: 12 }, (_, i) => 100 + i) };
const ubmTable = Array.from({ length: 5 }, (_, k) => Array.from({ length: 5 }, (_, d) => (d <= k ? 0.9 - 0.1 * k + 0.02 * d : 0)));
const parts = [0, 1, 2].map(
  (p) =>
    simulateSessions(lists, {
      numSessions: 700,
      clickModel: new UserBrowsingModel(ubmTable),
      relevance: Float32Array.from({ length: 12 }, (_, i) => 0.2 + 0.05 * i),
      rng: randomStream(`engine-${p}`),
      intervention: 'shuffle',
      truth: false,
    }).log,
);
const whole = concatChunks(parts.map((log) => ({ log }))).log;
let engine: LogEngine;

beforeAll(async () => {
  // Parquet partitions in a folder tree (read in path order), each numbering its sessions from 0; the same log as gzipped CSV.
  mkdirSync(join(dir, 'pq', 'q-more'), { recursive: true });
  await writeClickLog(join(dir, 'pq', 'part-0.parquet'), { log: parts[0] });
  await writeClickLog(join(dir, 'pq', 'part-1.parquet'), { log: parts[1] });
  await writeClickLog(join(dir, 'pq', 'q-more', 'part-2.parquet'), { log: parts[2] });
  mkdirSync(join(dir, 'csv'));
  for (let p = 0; p < 3; p++) {
    await writeClickLog(join(dir, 'csv', `p${p}.csv`), { log: parts[p] });
    writeFileSync(join(dir, 'csv', `p${p}.csv.gz`), gzipSync(readFileSync(join(dir, 'csv', `p${p}.csv`))));
    rmSync(join(dir, 'csv', `p${p}.csv`));
  }
  engine = await LogEngine.open({ memoryLimit: '256MB', threads: 1 });
});
afterAll(() => {
  engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

function sameLog(a: ClickLog, b: ClickLog): void {
  expect(Array.from(a.sessionQuery)).toEqual(Array.from(b.sessionQuery));
  expect(Array.from(a.sessionOffsets)).toEqual(Array.from(b.sessionOffsets));
  expect(Array.from(a.document)).toEqual(Array.from(b.document));
  expect(Array.from(a.position)).toEqual(Array.from(b.position));
  expect(Array.from(a.click)).toEqual(Array.from(b.click));
}

describe('LogEngine (DuckDB)', () => {
  it('streams a folder of Parquet partitions as batches of whole sessions', async () => {
    const batches: ClickLog[] = [];
    for await (const batch of engine.batches(join(dir, 'pq'), { batchRows: 1000 })) batches.push(batch);
    expect(batches.length).toBeGreaterThan(5);
    for (const b of batches) expect(b.document.length).toBeLessThan(1000 + 6);
    sameLog(concatChunks(batches.map((log) => ({ log }))).log, whole);
  });

  it('streams a glob of gzipped CSV partitions', async () => {
    const batches: ClickLog[] = [];
    for await (const batch of engine.batches(join(dir, 'csv', '*.csv.gz'))) batches.push(batch);
    sameLog(concatChunks(batches.map((log) => ({ log }))).log, whole);
  });

  /** PBM or UBM fitted on the engine's pair classes of `train`, as a model per pair, with the classes' counts. */
  async function fitOnClasses(model: 'pbm' | 'ubm', train: string, iterations: number) {
    const classes = await PairClasses.ofLog(engine, train, { distance: model === 'ubm' });
    const counts = classSlotCounts(await classes.counts(), classes.classes);
    const onClasses = fitFromCounts(counts, { model, iterations });
    const pairs = await classes.pairList();
    return { classes, counts, onClasses, pairs, fitted: onPairs(onClasses, pairs.pairClass) };
  }

  for (const model of ['pbm', 'ubm'] as const) {
    it(`${model} fitted on classes of pairs with equal counts equals EM on the sessions (1e-9), train on the Parquet folder, test on the CSV glob`, async () => {
      const { classes, counts, onClasses, pairs, fitted } = await fitOnClasses(model, join(dir, 'pq'), 25);
      // Session EM on the same log in memory (the CSV copy as the test log: the same sessions).
      const joined = concatChunks([{ log: whole }, { log: whole }]).log;
      const report = fitClickModel(joined, { model, iterations: 25, testFrom: whole.sessionQuery.length });
      const reference = new Map(Array.from(report.log.pairQuery, (q, p) => [`${q}/${report.log.pairDocument[p]}`, report.model.attractiveness.value[p]]));
      expect(pairs.query.length).toBe(reference.size);
      expect(classes.pairs).toBe(reference.size);
      expect(counts.multiplicity!.reduce((a, b) => a + b, 0)).toBe(classes.pairs);
      for (let p = 0; p < pairs.query.length; p++) expect(fitted.attractiveness.value[p]).toBeCloseTo(reference.get(`${pairs.query[p]}/${pairs.document[p]}`)!, 9);
      expect(Array.from(fitted.examination.value)).toEqual(Array.from((report.model as typeof fitted).examination.value, (v) => expect.closeTo(v, 9)));
      const train = evaluateSlotCounts(onClasses, counts);
      expect(train.sessions).toBe(2100);
      expect(train.logLikelihood).toBeCloseTo(report.trainQuality.logLikelihood, 9);
      const test = classSlotCounts(await classes.heldOut(join(dir, 'csv', '*.csv.gz')), classes.classes);
      expect(Array.from(test.pair).every((c) => c >= 0)).toBe(true);
      const quality = evaluateSlotCounts(onClasses, test);
      expect(quality.sessions).toBe(2100);
      expect(quality.logLikelihood).toBeCloseTo(report.testQuality!.logLikelihood, 9);
      if (model === 'pbm') expect(quality.perplexityAtRank).toEqual(report.testQuality!.perplexityAtRank.map((v) => expect.closeTo(v, 9)));
      await classes.drop();
    });
  }

  it('PBM on a log whose sessions all have one length (no join back to the sessions): twin pairs share a class, equal to EM on the sessions; held-out pairs not in training have α = 0.5', async () => {
    const simulate = (documents: number, seed: string) =>
      simulateSessions(
        { offsets: Int32Array.of(0, 4, 8, 12), documents: Int32Array.from({ length: 12 }, (_, i) => documents + (i % 9)) },
        {
          numSessions: 3000,
          clickModel: new UserBrowsingModel(ubmTable),
          relevance: Float32Array.from({ length: 12 }, (_, i) => 0.1 + 0.06 * i),
          rng: randomStream(seed),
          intervention: 'shuffle',
          truth: false,
        },
      ).log;
    // The log twice, the second time under other query ids: each pair has a twin with the same counts.
    const once = simulate(200, 'engine-equal');
    const log = concatChunks([{ log: once }, { log: { ...once, sessionQuery: once.sessionQuery.map((q) => q + 1000) } }]).log;
    const heldOut = simulate(300, 'engine-equal-test');
    await writeClickLog(join(dir, 'equal.parquet'), { log });
    await writeClickLog(join(dir, 'equal-test.parquet'), { log: heldOut });
    const { classes, counts, onClasses, pairs, fitted } = await fitOnClasses('pbm', join(dir, 'equal.parquet'), 20);
    expect(Array.from(counts.length).every((n) => n === 4)).toBe(true);
    expect(classes.classes * 2).toBe(classes.pairs);
    // In passes over parts of the queries (24,000 slots: the pairs hashed in 3 parts, the first pairs' cells in one pass): the same classes and counts.
    const passes = await PairClasses.ofLog(engine, join(dir, 'equal.parquet'), { distance: false, slotsPerPass: 10_000 });
    expect({ counts: await passes.counts(), pairs: await passes.pairList() }).toEqual({ counts: await classes.counts(), pairs });
    await passes.drop();
    const report = fitClickModel(concatChunks([{ log }, { log: heldOut }]).log, { model: 'pbm', iterations: 20, testFrom: log.sessionQuery.length });
    const reference = new Map(Array.from(report.log.pairQuery, (q, p) => [`${q}/${report.log.pairDocument[p]}`, report.model.attractiveness.value[p]]));
    for (let p = 0; p < pairs.query.length; p++) expect(fitted.attractiveness.value[p]).toBeCloseTo(reference.get(`${pairs.query[p]}/${pairs.document[p]}`)!, 9);
    expect(evaluateSlotCounts(onClasses, counts).logLikelihood).toBeCloseTo(report.trainQuality.logLikelihood, 9);
    const test = classSlotCounts(await classes.heldOut(join(dir, 'equal-test.parquet')), classes.classes);
    expect(Array.from(test.pair).every((c) => c === -1)).toBe(true);
    expect(evaluateSlotCounts(onClasses, test).logLikelihood).toBeCloseTo(report.testQuality!.logLikelihood, 9);
    await classes.drop();
  });

  it('groups the sessions into distinct (query, ranking, clicks) with their counts, the same from Parquet and gzipped CSV', async () => {
    const groups = await engine.sessionGroups(join(dir, 'pq'));
    expect(groups.sessions).toBe(2100);
    const n = groups.weight.length;
    expect(n).toBeLessThan(2100);
    expect(await engine.sessionGroups(join(dir, 'csv', '*.csv.gz'))).toEqual(groups);
    // Grouped in passes over parts of the queries (about 9 parts of 1,000 slots, 3 of them with queries): the same groups.
    expect(await engine.sessionGroups(join(dir, 'pq'), { slotsPerPass: 1000 })).toEqual(groups);
    // Independently: every session of the log, keyed by its query, documents and clicks, counted in memory.
    const counted = new Map<string, number>();
    for (let s = 0; s < whole.sessionQuery.length; s++) {
      const [a, b] = [whole.sessionOffsets[s], whole.sessionOffsets[s + 1]];
      const key = `${whole.sessionQuery[s]}|${whole.document.subarray(a, b)}|${whole.click.subarray(a, b)}`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
    }
    const log = groups.log;
    const ours = new Map<string, number>();
    for (let g = 0; g < n; g++) {
      const [a, b] = [log.sessionOffsets[g], log.sessionOffsets[g + 1]];
      expect(Array.from(log.position.subarray(a, b))).toEqual(Array.from({ length: b - a }, (_, k) => k));
      ours.set(`${log.sessionQuery[g]}|${log.document.subarray(a, b)}|${log.click.subarray(a, b)}`, groups.weight[g]);
    }
    expect(ours).toEqual(counted);
  });

  it("reads and sets DuckDB's memory limit in bytes", async () => {
    // Opened with 256MB (10^6 bytes a MB), reported in MiB with one decimal.
    expect(Math.abs((await engine.memoryLimit()) / 256e6 - 1)).toBeLessThan(1e-3);
    await engine.setMemoryLimit(300 * 2 ** 20 + 5);
    expect(await engine.memoryLimit()).toBe(300 * 2 ** 20);
    await engine.setMemoryLimit(256e6);
  });

  it('aggregates a log with negative query ids in passes as in one pass (the parts are non-negative remainders)', async () => {
    const negative = join(dir, 'negative.parquet');
    await writeClickLog(negative, { log: { ...whole, sessionQuery: whole.sessionQuery.map((q) => q - 2) } });
    const groups = await engine.sessionGroups(negative);
    expect(groups.sessions).toBe(2100);
    expect(Math.min(...groups.log.sessionQuery)).toBe(-2);
    expect(await engine.sessionGroups(negative, { slotsPerPass: 1000 })).toEqual(groups);
    for (const distance of [false, true]) {
      const classesOf = async (slotsPerPass?: number) => {
        const classes = await PairClasses.ofLog(engine, negative, { distance, slotsPerPass });
        const result = { pairs: classes.pairs, counts: await classes.counts(), list: await classes.pairList() };
        await classes.drop();
        return result;
      };
      const once = await classesOf();
      expect(once.pairs).toBe(12);
      expect(await classesOf(1000)).toEqual(once);
    }
  });

  for (const model of ['cm', 'dcm', 'dbn', 'sdbn', 'ccm', 'ubm'] as const) {
    it(`${model} fitted with the engine (session groups) equals EM on the sessions (1e-9), train on the Parquet folder, test on the CSV glob`, async () => {
      const report = await fitWithEngine({ model, log: join(dir, 'pq'), testLog: join(dir, 'csv', '*.csv.gz'), iterations: 15, threads: 1, memoryLimit: '256MB' });
      const reference = fitClickModel(concatChunks([{ log: whole }, { log: whole }]).log, { model, iterations: 15, testFrom: whole.sessionQuery.length });
      const alpha = new Map(Array.from(reference.log.pairQuery, (q, p) => [`${q}/${reference.log.pairDocument[p]}`, reference.model.attractiveness.value[p]]));
      expect(report.pairs).toBe(alpha.size);
      for (let p = 0; p < report.pairs; p++) expect(report.model.attractiveness.value[p]).toBeCloseTo(alpha.get(`${report.pairQuery[p]}/${report.pairDocument[p]}`)!, 9);
      expect([report.trainSessions, report.testSessions]).toEqual([2100, 2100]);
      for (const [ours, theirs] of [
        [report.trainQuality, reference.trainQuality],
        [report.testQuality!, reference.testQuality!],
      ]) {
        expect(ours.logLikelihood).toBeCloseTo(theirs.logLikelihood, 9);
        expect(ours.perplexityAtRank).toEqual(theirs.perplexityAtRank.map((v) => expect.closeTo(v, 9)));
      }
    });
  }

  it('clicklab fit takes a folder (DuckDB by default there) and a glob as --test-log', () => {
    const out = execFileSync(
      'node',
      [resolve('dist/cli/main.js'), 'fit', '--model', 'ubm', '--log', join(dir, 'pq'), '--test-log', join(dir, 'csv', '*.csv.gz'), '--iterations', '5', '--out', join(dir, 'ubm.json'), '--quiet'],
      { encoding: 'utf8' },
    );
    expect(out).toContain('ubm fitted from counts (DuckDB GROUP BY)');
    expect(out).toContain('2100 training sessions, 2100 test sessions, 12 (query, document) pairs');
    const report = fitClickModel(concatChunks([{ log: whole }, { log: whole }]).log, { model: 'ubm', iterations: 5, testFrom: whole.sessionQuery.length });
    expect(out).toMatch(new RegExp(`log-likelihood +${report.trainQuality.logLikelihood.toFixed(4)} +${report.testQuality!.logLikelihood.toFixed(4)}`));
    const saved = JSON.parse(readFileSync(join(dir, 'ubm.json'), 'utf8'));
    expect(saved).toMatchObject({ format: 'clicklab/fitted-counts@1', model: 'ubm', listLength: 5 });
  });

  it('clicklab fit --model dbn fits the cascade family out of core from session groups', () => {
    const out = execFileSync('node', [resolve('dist/cli/main.js'), 'fit', '--model', 'dbn', '--log', join(dir, 'pq'), '--iterations', '5', '--out', join(dir, 'dbn.json'), '--quiet'], {
      encoding: 'utf8',
    });
    expect(out).toContain('dbn fitted from session groups (DuckDB GROUP BY)');
    const report = fitClickModel(whole, { model: 'dbn', iterations: 5, testFraction: 0 });
    expect(out).toMatch(new RegExp(`log-likelihood +${report.trainQuality.logLikelihood.toFixed(4)}\\n`));
    expect(JSON.parse(readFileSync(join(dir, 'dbn.json'), 'utf8'))).toMatchObject({ model: 'dbn', parameters: { gamma: expect.closeTo(report.model.parameters().gamma as number, 9) } });
  });

  for (const [model, worldSlotsPerPart, log] of [
    ['pbm', undefined, 'pq'],
    ['ubm', undefined, 'pq'],
    ['pbm', 7, 'pq'],
    ['pbm', undefined, 'text-sessions'],
  ] as const) {
    const parts = `${worldSlotsPerPart === undefined ? 'in one part' : 'in parts of a few slots'}${log === 'text-sessions' ? ', text session ids' : ''}`;
    it(`${model}: the world DuckDB writes from the pair classes (${parts}) holds the in-memory world's rankings, sessions and per-pair α`, async () => {
      if (log === 'text-sessions') {
        // The partitions with their session ids as text (a ranking's first session is then kept as a STRUCT, not one integer).
        mkdirSync(join(dir, log));
        for (const [p, file] of ['part-0.parquet', 'part-1.parquet', join('q-more', 'part-2.parquet')].entries())
          await engine.run(`COPY (SELECT 's' || CAST(session AS VARCHAR) AS session, * EXCLUDE (session) FROM '${join(dir, 'pq', file)}') TO '${join(dir, log, `part-${p}.parquet`)}'`);
      }
      const folder = join(dir, `${model}-${worldSlotsPerPart ?? 'whole'}-${log}-counted-world`);
      const report = await fitWithEngine({ model, log: join(dir, log), iterations: 5, threads: 1, world: true, worldFolder: folder, worldSlotsPerPart });
      const memory = report.world!;
      expect(report.savedWorld).toEqual({ pairs: memory.pairQuery.length, rankings: memory.rankingSessions.length });
      const saved = await openWorld(folder);
      try {
        expect(await rankingsOf(saved)).toEqual(await rankingsOf(memory.rankings()));
        const propensities = await propensitiesOf(saved);
        expect(propensities).toEqual(await propensitiesOf(memory.rankings()));
        expect(new Set(propensities.values()).size).toBeGreaterThan(1);
        expect(saved.parameters).toEqual(JSON.parse(JSON.stringify(memory.model.parameters())));
      } finally {
        saved.close();
      }
      const rows = await engine.rows(`SELECT query, document, attractiveness FROM '${join(folder, 'pairs.parquet')}'`);
      const alpha = new Map(Array.from(memory.pairQuery, (q, p) => [`${q}/${memory.pairDocument[p]}`, memory.model.attractiveness.value[p]]));
      expect(rows.length).toBe(alpha.size);
      for (const [q, d, a] of rows) expect(a).toBe(alpha.get(`${q}/${d}`));
    });
  }

  for (const model of ['pbm', 'dbn'] as const) {
    it(`clicklab fit --model ${model} --out FOLDER saves a Parquet world of the training log's rankings, which simulate --world drives`, async () => {
      const world = join(dir, `${model}-world`);
      const cli = (args: string[]) => execFileSync('node', [resolve('dist/cli/main.js'), ...args], { encoding: 'utf8' });
      expect(cli(['fit', '--model', model, '--log', join(dir, 'pq'), '--iterations', '5', '--out', world, '--quiet'])).toContain(`fitted world written to ${world}`);
      const loaded = await openWorld(world);
      try {
        // Each session of the log shows one of the 3 lists in a shuffled order: the world's rankings and their sessions, counted independently.
        const rankings = new Map<string, number>();
        for (let s = 0; s < whole.sessionQuery.length; s++) {
          const key = `${whole.sessionQuery[s]}|${whole.document.subarray(whole.sessionOffsets[s], whole.sessionOffsets[s + 1])}`;
          rankings.set(key, (rankings.get(key) ?? 0) + 1);
        }
        expect(await rankingsOf(loaded)).toEqual(rankings);
        expect(loaded.model).toBe(model);
        const out = join(dir, `${model}-simulated.csv`);
        cli(['simulate', '--world', world, '--out', out, '--sessions', '300', '--seed', '2', '--quiet']);
        const simulated = (await readClickLog(out)).log;
        const chunks: SimulatedChunk[] = [];
        await simulateOnRankings(loaded, 300, randomStream(2).derive('sessions'), async (chunk) => void chunks.push(chunk), { truth: false, chunkSessions: 100 });
        const direct = concatChunks(chunks).log;
        expect(Array.from(simulated.click)).toEqual(Array.from(direct.click));
        expect(Array.from(simulated.document)).toEqual(Array.from(direct.document));
      } finally {
        loaded.close();
      }
    });
  }

  for (const model of ['pbm', 'ubm'] as const) {
    it(`${model}: the SQL of fit --emit-sql, run in DuckDB, writes the engine's counts, and fit --counts (Parquet or CSV) equals fit --log`, async () => {
      const cli = (args: string[]) => execFileSync('node', [resolve('dist/cli/main.js'), 'fit', '--model', model, ...args], { encoding: 'utf8' });
      const table = join(dir, `${model}-counts.parquet`);
      const sql = cli(['--emit-sql', '--sql-dialect', 'duckdb', '--log', join(dir, 'pq'), '--sql-out', table]);
      expect(sql).toContain(portableCountsQuery(model));
      const spark = cli(['--emit-sql', '--log', join(dir, 'pq'), '--sql-out', '/counts']);
      expect(spark).toContain(portableCountsQuery(model));
      expect(spark).toContain('input_file_name()');
      expect(spark).toContain("INSERT OVERWRITE DIRECTORY '/counts' USING parquet");
      for (const statement of sql.split(/;\n/).filter((t) => t.replace(/--.*$/gm, '').trim() !== '')) await engine.run(statement);
      const distance = model === 'ubm';
      // The same classes and counts from the log and from the table the SQL wrote (Parquet, or CSV partitions in a folder as a Spark job with header=true writes).
      const classesOf = async (classes: PairClasses) => {
        const result = { counts: await classes.counts(), pairs: await classes.pairList() };
        await classes.drop();
        return result;
      };
      const ours = await classesOf(await PairClasses.ofLog(engine, join(dir, 'pq'), { distance }));
      // Aggregated in passes over parts of the queries (about 9 parts of 1,000 slots, 3 of them with queries): the same classes and counts.
      expect(await classesOf(await PairClasses.ofLog(engine, join(dir, 'pq'), { distance, slotsPerPass: 1000 }))).toEqual(ours);
      expect(await classesOf(await PairClasses.ofCountsTable(engine, table, { distance }))).toEqual(ours);
      mkdirSync(join(dir, `${model}-csv`));
      await engine.run(`COPY (SELECT * FROM '${table}' WHERE query % 2 = 0) TO '${join(dir, `${model}-csv`, 'part-0.csv')}' (HEADER)`);
      await engine.run(`COPY (SELECT * FROM '${table}' WHERE query % 2 = 1) TO '${join(dir, `${model}-csv`, 'part-1.csv')}' (HEADER)`);
      expect(await classesOf(await PairClasses.ofCountsTable(engine, join(dir, `${model}-csv`), { distance }))).toEqual(ours);
      const params = (args: string[]) => {
        const out = join(dir, `${model}-${args[0].slice(2)}-${args[1].length}.json`);
        const text = cli([...args, '--iterations', '5', '--out', out, '--quiet']);
        return { text: text.replace(/of \S+:/, 'of X:').replace(/aggregation [^,]+, 5 EM iterations [^,]+, test [^\n]+/, ''), saved: JSON.parse(readFileSync(out, 'utf8')) };
      };
      const fromLog = params(['--log', join(dir, 'pq')]);
      const fromCounts = params(['--counts', table]);
      const fromCsv = params(['--counts', join(dir, `${model}-csv`)]);
      for (const other of [fromCounts, fromCsv]) {
        expect(other.saved.pairs).toEqual(fromLog.saved.pairs);
        expect(other.saved.parameters).toEqual(fromLog.saved.parameters);
        // UBM's perplexity needs the session groups, which a counts table does not have (n/a there); the rest is the same.
        const unlessUbm = ({ perplexity, perplexityAtRank, ...rest }: Record<string, unknown>) => (model === 'ubm' ? rest : { perplexity, perplexityAtRank, ...rest });
        expect(unlessUbm(other.saved.fit.train)).toEqual(unlessUbm(fromLog.saved.fit.train));
        const table = (text: string) =>
          text
            .slice(text.indexOf('measure'), text.indexOf('fitted parameters written'))
            .split('\n')
            .filter((line) => line.trim() !== '' && (model !== 'ubm' || !/perplexity/.test(line)));
        expect(table(other.text)).toEqual(table(fromLog.text));
        if (model === 'ubm') {
          expect(fromLog.saved.fit.train.perplexityAtRank).toHaveLength(5);
          expect(other.saved.fit.train.perplexityAtRank).toEqual([]);
        }
      }
    });
  }

  it("refuses to fit UBM from PBM's counts (distance 0 at every rank below the first), in one line", async () => {
    const table = join(dir, 'pbm-counts-for-ubm.parquet');
    const sql = execFileSync('node', [resolve('dist/cli/main.js'), 'fit', '--model', 'pbm', '--emit-sql', '--sql-dialect', 'duckdb', '--log', join(dir, 'pq'), '--sql-out', table], {
      encoding: 'utf8',
    });
    for (const statement of sql.split(/;\n/).filter((t) => t.replace(/--.*$/gm, '').trim() !== '')) await engine.run(statement);
    const run = spawnSync('node', [resolve('dist/cli/main.js'), 'fit', '--model', 'ubm', '--counts', table, '--out', join(dir, 'never.json'), '--quiet'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain("every slot below the first has distance 0, as in PBM's counts");
  });

  it('names a log whose sessions are not ranked 1 .. n when grouping them', async () => {
    const gap = join(dir, 'gap.csv');
    writeFileSync(gap, 'session,query,item_id,position,click\n0,1,5,1,0\n0,1,6,3,1\n');
    await expect(engine.sessionGroups(gap)).rejects.toThrow(`${gap}: a session of query 1 has ranks that are not 1, 2, …, n in order`);
    const twice = join(dir, 'twice.csv');
    writeFileSync(twice, 'session,query,item_id,position,click\n0,1,5,1,0\n0,1,6,1,1\n0,1,7,3,0\n');
    await expect(engine.sessionGroups(twice)).rejects.toThrow(`${twice}: a session of query 1 shows two results at one rank`);
  });

  it('names a missing input and an unknown file type', async () => {
    await expect(PairClasses.ofLog(engine, join(dir, 'nothing'), { distance: false })).rejects.toThrow('found no file or folder');
    await expect(PairClasses.ofLog(engine, join(dir, 'x.json'), { distance: false })).rejects.toThrow();
    // A CSV with its header only (DuckDB reads every column as text): named as empty, not a type error.
    writeFileSync(join(dir, 'empty.csv'), 'session,query,item_id,position,click\n');
    await expect(PairClasses.ofLog(engine, join(dir, 'empty.csv'), { distance: true })).rejects.toThrow(`${join(dir, 'empty.csv')}: no sessions (an empty log)`);
  });
});
