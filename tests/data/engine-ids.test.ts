import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog } from '../../src/core/types.js';
import { readClickLog } from '../../src/data/click-log-io.js';
import { PairClasses } from '../../src/data/count-classes.js';
import { LogEngine } from '../../src/data/engine.js';
import { joinTrainTest, readLogInput } from '../../src/data/log-input.js';
import { fitClickModel, fitWithEngine, openWorld } from '../../src/fitting/index.js';
import { rankingsOf } from '../helpers/world-rankings.js';
import { UserBrowsingModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

// A log with text query and document ids (commas, quotes, unicode, a number-like '007'), as a folder of
// two CSV partitions (each numbering its sessions from 0), the same sessions as one file, and a test log
// with a document the training log never shows.
const dir = mkdtempSync(join(tmpdir(), 'clicklab-engine-ids-'));
const QUERIES = ['how to, "fix" a bike', 'café crème', '日本語 クエリ'];
const DOCUMENTS = Array.from({ length: 12 }, (_, i) => (i === 3 ? '007' : i % 2 ? `https://例え.jp/${(i * 2654435761) % 2 ** 32}` : `https://x.com/a,b?id=${i}&q="ü"`));
const UNSEEN = 'https://unseen.example/ß';
const lists = { offsets: Int32Array.of(0, 3, 8, 12), documents: Int32Array.from({ length: 12 }, (_, i) => i) };
const ubmTable = Array.from({ length: 5 }, (_, k) => Array.from({ length: 5 }, (_, d) => (d <= k ? 0.9 - 0.1 * k + 0.02 * d : 0)));
const parts = [0, 1, 2].map(
  (p) =>
    simulateSessions(lists, {
      numSessions: 500,
      clickModel: new UserBrowsingModel(ubmTable),
      relevance: Float32Array.from({ length: 12 }, (_, i) => 0.2 + 0.05 * i),
      rng: randomStream(`engine-ids-${p}`),
      intervention: 'shuffle',
      truth: false,
    }).log,
);

const field = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
/** The log as CSV rows with text ids (`documents` maps a document index to its text), sessions numbered from `from`. */
function csvRows(log: ClickLog, from: number, documents: readonly string[]): string {
  let out = '';
  for (let s = 0; s < log.sessionQuery.length; s++) {
    for (let i = log.sessionOffsets[s]; i < log.sessionOffsets[s + 1]; i++) {
      out += `${from + s},${field(QUERIES[log.sessionQuery[s]])},${field(documents[log.document[i]])},${log.position[i] + 1},${log.click[i]}\n`;
    }
  }
  return out;
}
const HEADER = 'session,query,item_id,position,click\n';
const testDocuments = DOCUMENTS.map((d, i) => (i === 11 ? UNSEEN : d));
const cli = (args: string[]) => execFileSync('node', [resolve('dist/cli/main.js'), ...args], { encoding: 'utf8' });
let engine: LogEngine;

beforeAll(async () => {
  mkdirSync(join(dir, 'train', 'more'), { recursive: true });
  writeFileSync(join(dir, 'train', 'part-0.csv'), HEADER + csvRows(parts[0], 0, DOCUMENTS));
  writeFileSync(join(dir, 'train', 'more', 'part-1.csv'), HEADER + csvRows(parts[1], 0, DOCUMENTS));
  writeFileSync(join(dir, 'train-all.csv'), HEADER + csvRows(parts[0], 0, DOCUMENTS) + csvRows(parts[1], parts[0].sessionQuery.length, DOCUMENTS));
  writeFileSync(join(dir, 'test.csv'), HEADER + csvRows(parts[2], 0, testDocuments));
  engine = await LogEngine.open({ memoryLimit: '256MB', threads: 1 });
});
afterAll(() => {
  engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The in-memory `--ids text` fit of the whole training log, scored on the test log. */
async function inMemory(model: 'pbm' | 'ubm' | 'dbn') {
  const joined = joinTrainTest(await readLogInput(join(dir, 'train-all.csv'), { ids: 'text' }), await readLogInput(join(dir, 'test.csv'), { ids: 'text' }));
  const report = fitClickModel(joined.logged.log, { model, iterations: 15, testFrom: joined.testFrom });
  const alpha = new Map(Array.from(report.log.pairQuery, (q, p) => [`${joined.queryIds![q]}\u0000${joined.itemIds![report.log.pairDocument[p]]}`, report.model.attractiveness.value[p]]));
  return { report, alpha };
}

describe('text ids in the engine', () => {
  it('numbers text ids in text order, the same for a folder, a glob and one file, and a test log through the training dictionary', async () => {
    const counts = async (log: string) => {
      const own = await LogEngine.open({ memoryLimit: '256MB', threads: 2 });
      try {
        const classes = await PairClasses.ofLog(own, log, { distance: true, ids: 'auto' });
        const c = { ...(await classes.counts()), ...(await classes.pairList()) };
        const test = await classes.heldOut(join(dir, 'test.csv'), { ids: 'auto' });
        return { c, test, texts: await own.idTexts() };
      } finally {
        own.close();
      }
    };
    const folder = await counts(join(dir, 'train'));
    expect(folder.texts.query).toEqual([...QUERIES].sort());
    // The training log's documents in text order, then the test log's unseen one.
    const sorted = [...DOCUMENTS].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(folder.texts.item).toEqual([...sorted, UNSEEN]);
    expect(await counts(join(dir, 'train', '**', '*.csv'))).toEqual(folder);
    expect(await counts(join(dir, 'train-all.csv'))).toEqual(folder);
    expect(folder.c.sessions).toBe(1000);
    expect(Math.max(...folder.c.document)).toBe(11);
    // The test log's unseen document makes pairs of no training class.
    expect(folder.test.pairClass).toContain(-1);
  });

  it("streams batches with the dense ids, whose text is the log's", async () => {
    const own = await LogEngine.open({ memoryLimit: '256MB', threads: 1 });
    try {
      const queries: string[] = [];
      const documents: string[] = [];
      for await (const batch of own.batches(join(dir, 'train'), { ids: 'auto', batchRows: 500 })) {
        const texts = await own.idTexts();
        for (const q of batch.sessionQuery) queries.push(texts.query![q]);
        for (const d of batch.document) documents.push(texts.item![d]);
      }
      // Files in path order: train/more/part-1.csv, then train/part-0.csv.
      const expected = [parts[1], parts[0]];
      expect(queries).toEqual(expected.flatMap((log) => Array.from(log.sessionQuery, (q) => QUERIES[q])));
      expect(documents).toEqual(expected.flatMap((log) => Array.from(log.document, (d) => DOCUMENTS[d])));
    } finally {
      own.close();
    }
  });

  for (const [model, log] of [
    ['pbm', 'train'],
    ['ubm', 'train/**/*.csv'],
    ['dbn', 'train'],
  ] as const) {
    it(`${model} fitted with the engine on text ids (${log}) equals the in-memory --ids text fit, by text key, with a held-out text log`, async () => {
      const ours = await fitWithEngine({ model, log: join(dir, log), testLog: join(dir, 'test.csv'), iterations: 15, threads: 1, memoryLimit: '256MB' });
      const { report, alpha } = await inMemory(model);
      expect(ours.textIds.query).not.toBeNull();
      for (let p = 0; p < ours.pairs; p++) {
        const key = `${ours.textIds.query![ours.pairQuery[p]]}\u0000${ours.textIds.document![ours.pairDocument[p]]}`;
        expect(ours.model.attractiveness.value[p]).toBeCloseTo(alpha.get(key)!, 9);
      }
      expect(ours.unseenTestSlots).toBeGreaterThan(0);
      expect(ours.unseenTestSlots).toBe(report.unseenTestSlots);
      for (const [a, b] of [
        [ours.trainQuality, report.trainQuality],
        [ours.testQuality!, report.testQuality!],
      ]) {
        expect(a.sessions).toBe(b.sessions);
        expect(a.logLikelihood).toBeCloseTo(b.logLikelihood, 9);
      }
    });
  }

  it('saves a Parquet world and a JSON world with the text ids, and loads them back', async () => {
    const report = await fitWithEngine({ model: 'dbn', log: join(dir, 'train'), iterations: 5, threads: 1, world: true });
    const world = report.world!;
    const pairs = world.pairIds();
    expect((pairs.query as unknown[]).every((q) => typeof q === 'string')).toBe(true);
    const expected = await rankingsOf(world.rankings(), world.textIds);
    for (const path of [join(dir, 'world'), join(dir, 'world.json')]) {
      await world.save(path);
      const loaded = await openWorld(path);
      try {
        // The rankings by the text of their ids: ids written beside a log, read back.
        const idsOf = join(dir, `ids-${path.endsWith('.json') ? 'json' : 'folder'}`);
        await loaded.writeIdTexts(idsOf);
        const lines = (suffix: string) => readFileSync(`${idsOf}.${suffix}`, 'utf8').split('\n').slice(0, -1);
        expect(await rankingsOf(loaded, { query: lines('query-ids.txt'), document: lines('item-ids.txt') })).toEqual(expected);
      } finally {
        loaded.close();
      }
    }
    expect(expected.size).toBeGreaterThan(10);
    const types = await engine.numbers(`SELECT count(*) FILTER (WHERE column_type = 'VARCHAR') FROM (DESCRIBE SELECT query, document FROM '${join(dir, 'world', 'pairs.parquet')}')`);
    expect(types).toEqual([2]);
  });

  it('clicklab fit --out FOLDER on a text log, and simulate --world writes the text of its ids beside the log', async () => {
    const world = join(dir, 'cli-world');
    expect(cli(['fit', '--model', 'pbm', '--log', join(dir, 'train'), '--test-log', join(dir, 'test.csv'), '--iterations', '5', '--out', world, '--quiet'])).toContain(
      '1000 training sessions, 500 test sessions',
    );
    const out = join(dir, 'simulated.csv');
    expect(cli(['simulate', '--world', world, '--out', out, '--sessions', '200', '--seed', '2', '--quiet'])).toContain(`ids: ${out}.item-ids.txt`);
    const simulated = (await readClickLog(out)).log;
    const items = readFileSync(`${out}.item-ids.txt`, 'utf8').split('\n');
    expect(DOCUMENTS).toContain(items[simulated.document[0]]);
    const json = join(dir, 'cli.json');
    cli(['fit', '--model', 'pbm', '--log', join(dir, 'train'), '--iterations', '5', '--out', json, '--quiet']);
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    expect(QUERIES).toContain(saved.pairs.query[0]);
    expect(DOCUMENTS).toContain(saved.pairs.document[0]);
  });

  it('refuses an id column with an empty value, and text where integer ids are asked for, in one line naming the file and column', async () => {
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, `${HEADER}0,a,x,1,0\n0,a,,2,1\n`);
    await expect(PairClasses.ofLog(engine, empty, { distance: false, ids: 'auto' })).rejects.toThrow(`${empty}: column 'item_id' has an empty (NULL) id`);
    const mixed = join(dir, 'mixed.csv');
    writeFileSync(mixed, `${HEADER}0,1,5,1,0\n0,1,abc,2,1\n`);
    await expect(PairClasses.ofLog(engine, mixed, { distance: false })).rejects.toThrow(`${mixed}: column 'item_id' (VARCHAR) has 'abc' among integer ids`);
    const run = spawnSync('node', [resolve('dist/cli/main.js'), 'fit', '--model', 'pbm', '--engine', 'duckdb', '--ids', 'integer', '--log', mixed, '--out', join(dir, 'never.json'), '--quiet'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    // A text id after the rows DuckDB's sniffer samples: one line that says --ids text, which then reads it.
    const late = join(dir, 'late.csv');
    writeFileSync(late, HEADER + Array.from({ length: 30_000 }, (_, i) => `${i},${i % 100},${i % 7},1,${i % 2}\n`).join('') + '30000,abc,x,1,1\n');
    await expect(fitWithEngine({ model: 'pbm', log: late, iterations: 1, threads: 1 })).rejects.toThrow(
      `${late}:30002: column 'query' has 'abc' where DuckDB's sample of the file showed BIGINT; if the ids are text, give --ids text`,
    );
    expect((await fitWithEngine({ model: 'pbm', log: late, ids: 'text', iterations: 1, threads: 1 })).textIds.query).toHaveLength(101);
  });

  it('refuses a text test log after an integer training log', async () => {
    const integer = join(dir, 'integer.csv');
    writeFileSync(integer, `${HEADER}0,1,5,1,0\n0,1,6,2,1\n`);
    await expect(fitWithEngine({ model: 'pbm', log: integer, testLog: join(dir, 'test.csv'), iterations: 1, threads: 1 })).rejects.toThrow(
      `${join(dir, 'test.csv')}: column 'query' holds text ids (VARCHAR) where the log read before had integer ids`,
    );
  });
});
