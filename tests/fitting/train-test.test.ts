import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { joinTrainTest } from '../../src/data/log-input.js';
import { evaluateClickModel, fitClickModel, indexClickLog } from '../../src/fitting/index.js';
import { PositionBasedModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-train-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = resolve('dist/cli/main.js');

function simulated(seed: string, numSessions: number) {
  const lists = { offsets: Int32Array.of(0, 3, 6), documents: Int32Array.of(0, 1, 2, 3, 4, 5) };
  return simulateSessions(lists, {
    numSessions,
    clickModel: new PositionBasedModel(Float64Array.of(0.9, 0.6, 0.3)),
    relevance: Float32Array.of(0.7, 0.4, 0.2, 0.5, 0.3, 0.6),
    rng: randomStream(seed),
    intervention: 'shuffle',
    truth: false,
  });
}

describe('fit on one log, test on another', () => {
  it('trains on the first log only and scores the second', () => {
    const train = simulated('train', 400);
    const test = simulated('test', 150);
    const joined = joinTrainTest({ logged: train, queryIds: null, itemIds: null }, { logged: test, queryIds: null, itemIds: null });
    expect(joined.testFrom).toBe(400);
    const report = fitClickModel(joined.logged.log, { model: 'ubm', iterations: 10, testFrom: joined.testFrom });
    expect([report.train.length, report.test.length]).toEqual([400, 150]);
    const alone = fitClickModel(train.log, { model: 'ubm', iterations: 10, testFraction: 0 });
    expect(report.trainQuality).toEqual(alone.trainQuality);
    // The test log scored by the model fitted on the training log alone, pairs mapped by (query, document).
    const testIndexed = indexClickLog(test.log);
    const pairOf = new Map(Array.from(alone.log.pairQuery, (q, p) => [`${q}/${alone.log.pairDocument[p]}`, p]));
    const model = alone.model;
    const remapped = { ...testIndexed, pair: testIndexed.pair.map((p) => pairOf.get(`${testIndexed.pairQuery[p]}/${testIndexed.pairDocument[p]}`)!) };
    const expected = evaluateClickModel(
      model,
      remapped,
      Int32Array.from({ length: 150 }, (_, s) => s),
    );
    expect(report.testQuality!.logLikelihood).toBeCloseTo(expected.logLikelihood, 12);
    expect(report.testQuality!.perplexityAtRank).toEqual(expected.perplexityAtRank.map((v) => expect.closeTo(v, 12)));
  });

  it("renumbers text ids of the test log into the training log's vocabularies", () => {
    const log = (queries: number[], documents: number[]) => ({
      log: {
        sessionQuery: Int32Array.from(queries),
        sessionOffsets: Int32Array.from({ length: queries.length + 1 }, (_, s) => s),
        document: Int32Array.from(documents),
        position: new Uint16Array(queries.length),
        click: new Uint8Array(queries.length),
      },
    });
    const joined = joinTrainTest({ logged: log([0, 1], [0, 1]), queryIds: ['a', 'b'], itemIds: ['u', 'v'] }, { logged: log([0, 1], [0, 1]), queryIds: ['b', 'c'], itemIds: ['w', 'u'] });
    expect(joined.queryIds).toEqual(['a', 'b', 'c']);
    expect(joined.itemIds).toEqual(['u', 'v', 'w']);
    expect(Array.from(joined.logged.log.sessionQuery)).toEqual([0, 1, 1, 2]);
    expect(Array.from(joined.logged.log.document)).toEqual([0, 1, 2, 0]);
  });

  it('clicklab fit reads a generic CSV with --columns and --ids text, and --test-log', () => {
    const rows = (sessions: [string, string[], number[]][]) =>
      ['sid,qid,url,rank,clicked', ...sessions.flatMap(([q, urls, clicks], s) => urls.map((u, k) => `${s},${q},${u},${k + 1},${clicks[k]}`))].join('\n');
    const trainFile = join(dir, 'train.csv');
    const testFile = join(dir, 'test.csv');
    writeFileSync(
      trainFile,
      rows([
        ['q-a', ['http://x', 'http://y'], [1, 0]],
        ['q-a', ['http://y', 'http://x'], [0, 1]],
        ['q-b', ['http://z', 'http://x'], [0, 0]],
      ]),
    );
    writeFileSync(
      testFile,
      rows([
        ['q-b', ['http://x', 'http://z'], [1, 0]],
        ['q-c', ['http://w', 'http://x'], [0, 1]],
      ]),
    );
    const columns = 'session=sid,query=qid,document=url,position=rank,click=clicked';
    const out = execFileSync(
      'node',
      [cli, 'fit', '--model', 'pbm', '--log', trainFile, '--test-log', testFile, '--columns', columns, '--ids', 'text', '--out', join(dir, 'w.json'), '--quiet', '--iterations', '5'],
      { encoding: 'utf8' },
    );
    expect(out).toContain('3 training sessions, 2 test sessions, 6 (query, document) pairs');
    expect(out).toContain('perplexity @2');
    expect(out).toContain('test slots whose pair is not in the training sessions (α = 0.5): 2');
    let message = '';
    try {
      execFileSync('node', [cli, 'fit', '--model', 'pbm', '--log', trainFile, '--columns', columns, '--out', join(dir, 'w2.json')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      message = String((error as { stderr: string }).stderr);
    }
    expect(message).toContain('read them with --ids text');
  });
});
