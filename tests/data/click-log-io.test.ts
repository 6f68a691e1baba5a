import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table as makeTable, toArrowIPC } from 'arquero';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { clickLogFromTable, clickLogToTable, type LoggedClicks } from '../../src/data/click-log-table.js';
import { ClickLogWriter, clickLogFormatOf, readClickLog, writeClickLog, type ClickLogFormat } from '../../src/data/click-log-io.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { simulateSessions, type DisplayedLists } from '../../src/simulation/sessions.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-click-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function path(name: string): string {
  return join(dir, name);
}

function write(name: string, content: string): string {
  const file = path(name);
  writeFileSync(file, content);
  return file;
}

/** A hand-made log: sessions of 3, 1 and 2 slots, with propensities and truth. */
function handMade(): Required<LoggedClicks> {
  return {
    log: {
      sessionQuery: Int32Array.of(4, 0, 4),
      sessionOffsets: Int32Array.of(0, 3, 4, 6),
      document: Int32Array.of(10, 11, 12, 0, 11, 10),
      position: Uint16Array.of(0, 1, 2, 0, 0, 1),
      click: Uint8Array.of(1, 0, 0, 0, 0, 1),
    },
    propensity: Float32Array.of(0.5, 0.1, 1, 1 / 3, 0.25, 0.75),
    truth: {
      examinationProbability: Float32Array.of(1, 0.5, 1 / 3, 1, 1, 0.5),
      relevanceProbability: Float32Array.of(0.9, 0.1, 0, 0.2, 0.05, 0.7),
      examined: Uint8Array.of(1, 1, 0, 1, 0, 1),
    },
  };
}

const lists: DisplayedLists = {
  offsets: Int32Array.from({ length: 21 }, (_, q) => q * 5),
  documents: Int32Array.from({ length: 100 }, (_, i) => i),
};
const relevance = Float32Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) / 100);
const pbm = new PositionBasedModel(Float64Array.of(1, 0.6, 0.4, 0.3, 0.2));

/** Simulated sessions, with the examination probability standing in for a logging propensity. */
function simulated(numSessions: number, seed: string): Required<LoggedClicks> {
  const { log, truth } = simulateSessions(lists, { numSessions, clickModel: pbm, relevance, rng: randomStream(seed), intervention: 'shuffle' });
  return { log, truth, propensity: truth.examinationProbability };
}

function withoutTruth({ log, propensity }: LoggedClicks): LoggedClicks {
  return propensity === undefined ? { log } : { log, propensity };
}

/** Equal typed arrays, of the same type, byte for byte. */
function expectSameArray(actual: ArrayBufferView | undefined, expected: ArrayBufferView): void {
  expect(actual).toBeDefined();
  expect(actual!.constructor).toBe(expected.constructor);
  expect(Buffer.from(actual!.buffer, actual!.byteOffset, actual!.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(true);
}

function expectSameLog(actual: LoggedClicks, expected: LoggedClicks): void {
  for (const key of ['sessionQuery', 'sessionOffsets', 'document', 'position', 'click'] as const) {
    expectSameArray(actual.log[key], expected.log[key]);
  }
  if (expected.propensity === undefined) expect(actual.propensity).toBeUndefined();
  else expectSameArray(actual.propensity, expected.propensity);
  if (expected.truth === undefined) {
    expect(actual.truth).toBeUndefined();
  } else {
    expectSameArray(actual.truth?.examinationProbability, expected.truth.examinationProbability);
    expectSameArray(actual.truth?.relevanceProbability, expected.truth.relevanceProbability);
    expectSameArray(actual.truth?.examined, expected.truth.examined);
  }
}

/** Runs `read` and asserts a DataFormatError naming the file and line (or data row), with `words` in its message. */
async function expectFormatError(read: () => Promise<unknown>, file: string, where: { line: number } | { row: number } | null, ...words: string[]): Promise<void> {
  let error: unknown;
  try {
    await read();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DataFormatError);
  const e = error as DataFormatError;
  expect(e.file).toBe(file);
  if (where !== null && 'line' in where) {
    expect(e.line).toBe(where.line);
    expect(e.message).toContain(`${file}:${where.line}: `);
  } else {
    expect(e.line).toBeNull();
    expect(e.message).toContain(where === null ? `${file}: ` : `${file}: row ${where.row}: `);
  }
  for (const word of words) expect(e.message).toContain(word);
}

/** FNV-1a over a log's sessions (query, length, slots, propensity bits), chainable across chunks. */
function checksum(hash: number, { log, propensity }: LoggedClicks): number {
  let h = hash;
  const mix = (v: number): void => {
    h = Math.imul(h ^ v, 16777619) >>> 0;
  };
  const bits = propensity === undefined ? null : new Uint32Array(propensity.buffer, propensity.byteOffset, propensity.length);
  for (let s = 0; s < log.sessionQuery.length; s++) {
    mix(log.sessionQuery[s]);
    mix(log.sessionOffsets[s + 1] - log.sessionOffsets[s]);
    for (let row = log.sessionOffsets[s]; row < log.sessionOffsets[s + 1]; row++) {
      mix(log.document[row]);
      mix(log.position[row]);
      mix(log.click[row]);
      if (bits !== null) mix(bits[row]);
    }
  }
  return h;
}

const FORMATS: [ClickLogFormat, string][] = [
  ['csv', 'csv'],
  ['jsonl', 'jsonl'],
  ['arrow', 'arrow'],
  ['arrow', 'feather'],
  ['parquet', 'parquet'],
];

describe('clickLogFormatOf', () => {
  it('tells the format from the extension, case-insensitively', () => {
    expect(clickLogFormatOf('a/b.csv')).toBe('csv');
    expect(clickLogFormatOf('b.JSONL')).toBe('jsonl');
    expect(clickLogFormatOf('b.feather')).toBe('arrow');
    expect(clickLogFormatOf('b.arrow')).toBe('arrow');
    expect(clickLogFormatOf('b.parquet')).toBe('parquet');
    expect(() => clickLogFormatOf('b.txt')).toThrow(ConfigError);
  });
});

describe('click logs as tables', () => {
  it('has one row per slot, 1-based positions, and truth only when asked', () => {
    const logged = handMade();
    const table = clickLogToTable(logged);
    expect(table.columnNames()).toEqual(['session', 'query', 'item_id', 'position', 'click', 'pscore']);
    expect(Array.from(table.array('session'))).toEqual([0, 0, 0, 1, 2, 2]);
    expect(Array.from(table.array('query'))).toEqual([4, 4, 4, 0, 4, 4]);
    expect(Array.from(table.array('position'))).toEqual([1, 2, 3, 1, 1, 2]);
    expect(clickLogToTable(logged, { truth: true }).columnNames()).toEqual([
      'session',
      'query',
      'item_id',
      'position',
      'click',
      'pscore',
      'truth_examination_probability',
      'truth_relevance_probability',
      'truth_examined',
    ]);
    expect(clickLogToTable({ log: logged.log }).columnNames()).not.toContain('pscore');
  });

  it('round-trips through a table, with and without truth', () => {
    const logged = simulated(300, 'table');
    expectSameLog(clickLogFromTable(clickLogToTable(logged)), withoutTruth(logged));
    expectSameLog(clickLogFromTable(clickLogToTable(logged, { truth: true }), { truth: true }), logged);
    // Truth columns in the table are not read unless asked for.
    expect(clickLogFromTable(clickLogToTable(logged, { truth: true })).truth).toBeUndefined();
  });

  it('reads a filtered and reordered table in its row order', () => {
    const table = makeTable({
      session: [7, 7, 3, 9],
      query: [1, 1, 2, 0],
      item_id: [5, 6, 5, 4],
      position: [2, 1, 1, 1],
      click: [0, 1, 0, 0],
    })
      .filter((d: { session: number }) => d.session !== 9)
      .orderby('session', 'position');
    const { log } = clickLogFromTable(table);
    expect(Array.from(log.sessionQuery)).toEqual([2, 1]);
    expect(Array.from(log.document)).toEqual([5, 6, 5]);
    expect(Array.from(log.position)).toEqual([0, 0, 1]);
  });

  it("accepts the Open Bandit Pipeline's column names", () => {
    const table = makeTable({
      session: [0, 0, 1],
      query: [0, 0, 3],
      action: [2, 1, 2],
      position: [1, 2, 1],
      reward: [0, 1, 1],
      propensity_score: [0.5, 0.25, 1],
    });
    const { log, propensity } = clickLogFromTable(table);
    expect(Array.from(log.document)).toEqual([2, 1, 2]);
    expect(Array.from(log.click)).toEqual([0, 1, 1]);
    expect(Array.from(propensity!)).toEqual([0.5, 0.25, 1]);
  });

  it('rejects a table value that is not a number, naming the data row', () => {
    const table = makeTable({ session: [0, 0], query: [0, 0], item_id: [1, 2], position: [1, 2], click: [0, '1'] });
    expect(() => clickLogFromTable(table, { source: 'mine' })).toThrow('mine: row 2: expected a number in column \'click\', found the text "1"');
  });

  it('refuses to write a log that would not read back as it is', () => {
    const logged = handMade();
    const badPosition = { ...logged.log, position: Uint16Array.of(0, 2, 1, 0, 0, 1) };
    expect(() => clickLogToTable({ log: badPosition })).toThrow(/expected position 1 at row 1/);
    const emptySession = { ...logged.log, sessionQuery: Int32Array.of(4, 0, 4, 1), sessionOffsets: Int32Array.of(0, 3, 4, 6, 6) };
    expect(() => clickLogToTable({ log: emptySession })).toThrow(/session 3 has no rows/);
    expect(() => clickLogToTable({ log: logged.log, propensity: Float32Array.of(0.5, 0, 1, 1, 1, 1) })).toThrow(/propensity in \(0, 1\] at row 1/);
    expect(() => clickLogToTable({ log: logged.log }, { truth: true })).toThrow(/has no truth/);
  });
});

describe('round trips on disk', () => {
  for (const [, extension] of FORMATS) {
    it(`${extension}: hand-made and simulated logs come back byte for byte`, async () => {
      for (const [name, logged] of [
        ['hand', handMade()],
        ['sim', simulated(500, extension)],
      ] as const) {
        const plain = path(`${name}.${extension}`);
        await writeClickLog(plain, logged);
        expectSameLog(await readClickLog(plain), withoutTruth(logged));
        await expectFormatError(() => readClickLog(plain, { truth: true }), plain, null, 'truth_examination_probability', 'missing', "'pscore'");

        const withTruth = path(`${name}-truth.${extension}`);
        await writeClickLog(withTruth, logged, { truth: true });
        expectSameLog(await readClickLog(withTruth, { truth: true }), logged);
        expect((await readClickLog(withTruth)).truth).toBeUndefined();

        const bare = path(`${name}-bare.${extension}`);
        await writeClickLog(bare, { log: logged.log });
        expectSameLog(await readClickLog(bare), { log: logged.log });
      }
    });
  }

  it('an empty log round-trips in every format', async () => {
    const empty: LoggedClicks = {
      log: { sessionQuery: new Int32Array(0), sessionOffsets: Int32Array.of(0), document: new Int32Array(0), position: new Uint16Array(0), click: new Uint8Array(0) },
    };
    for (const extension of ['csv', 'jsonl', 'parquet', 'arrow']) {
      const file = path(`empty.${extension}`);
      await writeClickLog(file, empty);
      expectSameLog(await readClickLog(file), empty);
    }
  });

  it('takes the format from the option over the extension', async () => {
    const file = path('really-jsonl.txt');
    await writeClickLog(file, handMade(), { format: 'jsonl' });
    const jsonl = readFileSync(file, 'utf8').split('\n');
    expect(jsonl[0]).toBe('{"clicklab":{"kind":"click-log","version":1}}');
    expect(jsonl[1]).toBe('{"session":0,"query":4,"item_id":10,"position":1,"click":1,"pscore":0.5}');
    expect(jsonl.at(-2)).toBe('{"clicklab_end":{"rows":6,"sessions":3}}');
    expectSameLog(await readClickLog(file, { format: 'jsonl' }), withoutTruth(handMade()));
  });

  it('writes CSV with a header, 1-based positions and the shortest float32 decimals', async () => {
    const file = path('shape.csv');
    await writeClickLog(file, handMade(), { truth: true });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe('# clicklab log {"kind":"click-log","version":1}');
    expect(lines[1]).toBe('session,query,item_id,position,click,pscore,truth_examination_probability,truth_relevance_probability,truth_examined');
    expect(lines[2]).toBe('0,4,10,1,1,0.5,1,0.9,1');
    expect(lines[5]).toBe('1,0,0,1,0,0.33333334,1,0.2,1');
    expect(lines[8]).toBe('# clicklab end rows=6 sessions=3');
    expect(lines.length).toBe(10); // mark, header, six rows, end record, and the final newline
  });
});

describe("the Open Bandit Pipeline's column names", () => {
  const expected = { document: [3, 5, 3], click: [1, 0, 0], propensity: [0.25, 0.125, 0.5] };

  function check(logged: LoggedClicks): void {
    expect(Array.from(logged.log.document)).toEqual(expected.document);
    expect(Array.from(logged.log.click)).toEqual(expected.click);
    expect(Array.from(logged.propensity!)).toEqual(expected.propensity);
    expect(Array.from(logged.log.sessionOffsets)).toEqual([0, 2, 3]);
  }

  it('CSV, with an unnamed index column, extra feature columns and quoting', async () => {
    const file = write(
      'obp.csv',
      [
        ',timestamp,item_id,position,click,propensity_score,user_feature_0,session,query',
        '0,"2019-11-24 00:00:17+00:00",3,1,1,0.25,"81ce123cbb5bd8ce, x",0,7',
        '1,2019-11-24 00:00:17+00:00,5,2,0,0.125,"a ""quoted"" value",0,7',
        '2,2019-11-24 00:00:19+00:00,"3",1,0,0.5,c,1,2',
      ].join('\r\n'),
    );
    check(await readClickLog(file));
  });

  it('JSON Lines', async () => {
    const file = write(
      'obp.jsonl',
      [
        '{"session":0,"query":7,"action":3,"position":1,"reward":1,"propensity_score":0.25,"user_feature_0":"x"}',
        '{"session":0,"query":7,"action":5,"position":2,"reward":0,"propensity_score":0.125,"user_feature_0":"y"}',
        '{"session":1,"query":2,"action":3,"position":1,"reward":0,"propensity_score":0.5,"user_feature_0":"z"}',
        '',
      ].join('\n'),
    );
    check(await readClickLog(file));
  });

  const columns = { session: [0, 0, 1], query: [7, 7, 2], action: [3, 5, 3], position: [1, 2, 1], reward: [1, 0, 0], propensity_score: [0.25, 0.125, 0.5] };

  it('Arrow', async () => {
    const file = path('obp.arrow');
    writeFileSync(file, toArrowIPC(makeTable(columns), { format: 'stream' }));
    check(await readClickLog(file));
  });

  it('Parquet, with 64-bit integers and doubles as pandas writes them', async () => {
    const file = path('obp.parquet');
    parquetWriteFile({
      filename: file,
      columnData: Object.entries(columns).map(([name, data]) => (name === 'propensity_score' ? { name, data, type: 'DOUBLE' } : { name, data: BigInt64Array.from(data.map(BigInt)), type: 'INT64' })),
    });
    check(await readClickLog(file));
  });
});

describe('malformed files', () => {
  const header = 'session,query,item_id,position,click,pscore';

  /** A CSV file of the header and `rows`; the data rows start on line 2. */
  function csv(name: string, ...rows: string[]): string {
    return write(`${name}.csv`, [header, ...rows, ''].join('\n'));
  }

  it('names the missing columns and the ones there are', async () => {
    const file = write('missing.csv', 'session,item,position\n0,1,1\n');
    await expectFormatError(() => readClickLog(file), file, null, 'query', 'item_id (or action)', 'click (or reward)', "found columns: 'session', 'item', 'position'");
    const both = write('both.csv', 'session,query,item_id,position,click,reward\n');
    await expectFormatError(() => readClickLog(both), both, null, "'click' and 'reward'", 'found both');
    const twice = write('twice.csv', 'session,query,item_id,position,click,click\n');
    await expectFormatError(() => readClickLog(twice), twice, { line: 1 }, "'click' twice");
    const empty = write('empty.csv', '');
    await expectFormatError(() => readClickLog(empty), empty, null, 'expected a header line');
  });

  it('rejects non-integer ids and positions', async () => {
    let file = csv('session-float', '0,1,2,1,0,0.5', '1.5,1,2,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 3 }, "expected an integer in column 'session', found 1.5");
    file = csv('query-text', '0,abc,2,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, "expected a number in column 'query', found 'abc'");
    file = csv('item-negative', '0,1,-2,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, "column 'item_id', found -2");
    file = csv('position-float', '0,1,2,1,0,0.5', '0,1,3,2.5,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 3 }, "expected an integer in column 'position', found 2.5");
    file = csv('hex', '0,1,0x10,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, "found '0x10'");
    file = csv('empty-field', '0,1,,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, "column 'item_id', found an empty field");
  });

  it('rejects positions below 1', async () => {
    const file = csv('position-zero', '0,1,2,0,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, "expected an integer in [1, 2147483647] in column 'position', found 0");
  });

  it('rejects clicks that are not 0 or 1', async () => {
    const file = csv('click-two', '0,1,2,1,0,0.5', '0,1,3,2,2,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 3 }, "expected 0 or 1 in column 'click', found 2");
    const jsonl = write('click-bool.jsonl', '{"session":0,"query":1,"item_id":2,"position":1,"click":true}\n');
    await expectFormatError(() => readClickLog(jsonl), jsonl, { line: 1 }, "expected a number for 'click', found the boolean true");
  });

  it('rejects propensities outside (0, 1]', async () => {
    for (const [name, value] of [
      ['zero', '0'],
      ['above', '1.5'],
      ['negative', '-0.1'],
      ['nan', 'NaN'],
    ] as const) {
      const file = csv(`pscore-${name}`, '0,1,2,1,0,0.5', `1,1,3,1,0,${value}`);
      await expectFormatError(() => readClickLog(file), file, { line: 3 }, "column 'pscore'", value);
    }
  });

  it('rejects sessions that are not contiguous, with the line where the session began', async () => {
    const file = csv('not-contiguous', '5,1,2,1,0,0.5', '5,1,3,2,0,0.5', '6,1,2,1,0,0.5', '5,1,4,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 5 }, 'contiguous', 'session 5 again', 'began on line 2');
    // Decreasing ids are fine as long as each session's rows stay together.
    const decreasing = csv('decreasing', '9,1,2,1,0,0.5', '3,1,3,1,0,0.5', '4,0,3,1,1,0.5');
    expect(Array.from((await readClickLog(decreasing)).log.sessionQuery)).toEqual([1, 1, 0]);
  });

  it('rejects positions that are not 1, 2, 3, ... in order', async () => {
    let file = csv('skips', '0,1,2,1,0,0.5', '0,1,3,3,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 3 }, 'expected position 2 (the next rank of session 0), found 3');
    file = csv('starts-late', '0,1,2,2,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, 'expected position 1 on the first row of session 0, found 2');
    file = csv('query-changes', '0,1,2,1,0,0.5', '0,2,3,2,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 3 }, 'expected query 1 in every row of session 0 (as on line 2), found 2');
  });

  it('rejects broken CSV lines', async () => {
    let file = csv('short', '0,1,2,1,0');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, 'expected 6 fields (as in the header), found 5');
    file = csv('long', '0,1,2,1,0,0.5,9');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, 'expected 6 fields (as in the header), found more');
    file = csv('blank', '0,1,2,1,0,0.5', '', '1,1,2,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 3 }, 'found an empty line');
    file = csv('quote', '0,1,"2,1,0,0.5');
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, 'closing quote');
  });

  it('rejects broken JSON lines', async () => {
    const first = '{"session":0,"query":1,"item_id":2,"position":1,"click":0}';
    let file = write('invalid.jsonl', `${first}\n{"session":1,\n`);
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, 'expected a JSON object, found invalid JSON');
    file = write('array.jsonl', '[0,1,2,1,0]\n');
    await expectFormatError(() => readClickLog(file), file, { line: 1 }, 'found an array');
    file = write('missing-key.jsonl', `${first}\n{"session":1,"query":1,"position":1,"click":0}\n`);
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, "expected the key 'item_id' (as on line 1), found none");
    file = write('string.jsonl', `${first}\n{"session":1,"query":"1","item_id":2,"position":1,"click":0}\n`);
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, 'expected a number for \'query\', found the text "1"');
    file = write('late-pscore.jsonl', `${first}\n{"session":1,"query":1,"item_id":2,"position":1,"click":0,"pscore":0.5}\n`);
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, "expected no 'pscore' (line 1 has none)");
    file = write('position.jsonl', `${first}\n{"session":0,"query":1,"item_id":3,"position":3,"click":0}\n`);
    await expectFormatError(() => readClickLog(file), file, { line: 2 }, 'expected position 2');
  });

  it('names the 1-based data row in Arrow and Parquet files', async () => {
    const columns = { session: [0, 0, 1], query: [1, 1, 1], item_id: [2, 3, 2], position: [1, 2, 0], click: [0, 0, 1] };
    const arrow = path('bad.arrow');
    writeFileSync(arrow, toArrowIPC(makeTable(columns), { format: 'file' }));
    await expectFormatError(() => readClickLog(arrow), arrow, { row: 3 }, "column 'position', found 0");
    const huge = path('huge.arrow');
    writeFileSync(huge, toArrowIPC(makeTable({ ...columns, session: BigInt64Array.of(0n, 0n, 2n ** 60n) })));
    await expectFormatError(() => readClickLog(huge), huge, { row: 3 }, "expected an integer within ±(2^53 − 1) in column 'session', found 1152921504606846976");
    const withNull = path('null.arrow');
    writeFileSync(withNull, toArrowIPC(makeTable({ ...columns, position: [1, null, 1] })));
    await expectFormatError(() => readClickLog(withNull), withNull, { row: 2 }, "expected a number in column 'position', found an empty value (null)");

    const parquet = path('bad.parquet');
    parquetWriteFile({
      filename: parquet,
      columnData: Object.entries({ ...columns, click: [0, 2, 1], position: [1, 2, 1] }).map(([name, data]) => ({ name, data, type: 'INT32' as const })),
    });
    await expectFormatError(() => readClickLog(parquet), parquet, { row: 2 }, "expected 0 or 1 in column 'click', found 2");
  });

  it('rejects files that are not Arrow or Parquet at all', async () => {
    const notArrow = write('not.arrow', 'session,query\n');
    await expectFormatError(() => readClickLog(notArrow), notArrow, null, 'expected Arrow IPC data');
    const notParquet = write('not.parquet', 'session,query,item_id,position,click\n0,0,0,1,0\n');
    await expectFormatError(() => readClickLog(notParquet), notParquet, null, 'not a complete Parquet file (no footer): truncated?');
  });
});

describe('ClickLogWriter', () => {
  it('streams 200k sessions in chunks of 10k to CSV and reads them back', async () => {
    const file = path('stream.csv');
    const writer = await ClickLogWriter.open(file);
    let expected = 2166136261;
    for (let chunk = 0; chunk < 20; chunk++) {
      const logged = withoutTruth(simulated(10_000, `stream/${chunk}`));
      expected = checksum(expected, logged);
      await writer.write(logged);
    }
    await writer.close();
    expect(writer.sessions).toBe(200_000);
    expect(writer.rows).toBe(1_000_000);
    const back = await readClickLog(file);
    expect(back.log.sessionQuery.length).toBe(200_000);
    expect(checksum(2166136261, back)).toBe(expected);
    expect(statSync(file).size).toBeGreaterThan(0);
  });

  for (const extension of ['jsonl', 'parquet']) {
    it(`${extension}: chunks read back as one log, numbered on across chunks`, async () => {
      const file = path(`chunks.${extension}`);
      const chunks = [simulated(700, 'c/0'), simulated(1, 'c/1'), simulated(300, 'c/2')];
      const writer = await ClickLogWriter.open(file, { truth: true });
      for (const chunk of chunks) await writer.write(chunk);
      await writer.close();
      const back = await readClickLog(file, { truth: true });
      expect(back.log.sessionQuery.length).toBe(1001);
      const expected = chunks.reduce(checksum, 2166136261);
      expect(checksum(2166136261, back)).toBe(expected);
      const concat = <T extends Float32Array | Uint8Array>(pick: (c: Required<LoggedClicks>) => T): number[] => chunks.flatMap((c) => Array.from(pick(c)));
      expect(Array.from(back.truth!.examined)).toEqual(concat((c) => c.truth.examined));
      expect(Array.from(back.truth!.relevanceProbability)).toEqual(concat((c) => c.truth.relevanceProbability));
    });
  }

  it('keeps the columns of the first chunk, and refuses Arrow', async () => {
    const writer = await ClickLogWriter.open(path('mixed.csv'));
    await writer.write(handMade());
    await expect(writer.write({ log: handMade().log })).rejects.toThrow(/first chunk had propensities/);
    await writer.close();
    await expect(writer.write(handMade())).rejects.toThrow(/write after close/);
    await expect(ClickLogWriter.open(path('x.arrow'))).rejects.toThrow(ConfigError);
  });

  it('writes a header even when no chunk came', async () => {
    const file = path('none.csv');
    const writer = await ClickLogWriter.open(file);
    await writer.close();
    expect(readFileSync(file, 'utf8')).toBe('# clicklab log {"kind":"click-log","version":1}\nsession,query,item_id,position,click\n# clicklab end rows=0 sessions=0\n');
    expect((await readClickLog(file)).log.sessionOffsets).toEqual(Int32Array.of(0));
  });
});
