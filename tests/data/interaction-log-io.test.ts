import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table as makeTable, toArrowIPC } from 'arquero';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { interactionLogFromTable, interactionLogToTable, type LoggedInteractions } from '../../src/data/interaction-log-table.js';
import { InteractionLogWriter, interactionLogFormatOf, readInteractionLog, writeInteractionLog, type InteractionLogFormat } from '../../src/data/interaction-log-io.js';
import { PopularityExposure, RecommenderWorld, simulateInteractions } from '../../src/simulation/recommender/index.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-interaction-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function path(name: string): string {
  return join(dir, name);
}

function write(name: string, content: string): string {
  const file = path(name);
  writeFileSync(file, content);
  return file;
}

/** A hand-made log: users 3, 0 and 7 with 2, 1 and 3 rows (users need not be ascending), with propensities and truth. */
function handMade(): Required<LoggedInteractions> {
  return {
    log: {
      user: Int32Array.of(3, 3, 0, 7, 7, 7),
      item: Int32Array.of(1, 5, 5, 0, 2, 9),
      click: Uint8Array.of(1, 0, 0, 1, 1, 0),
    },
    propensity: Float32Array.of(0.5, 0.1, 0.1, 1, 1 / 3, 0.25),
    truth: {
      exposureProbability: Float32Array.of(0.5, 0.1, 0.1, 1, 1 / 3, 0.25),
      preferenceProbability: Float32Array.of(0.9, 0.05, 0.2, 0.7, 0.6, 0),
    },
  };
}

const world = new RecommenderWorld({ numUsers: 400, numItems: 300, dimension: 4, rng: randomStream('interaction-log-world') });
const exposure = new PopularityExposure(world.popularity, { expectedExposures: 8 });

/** Simulated interactions of `users` (a count from 0, or a list), θ standing in as the learner's propensity. */
function simulated(users: number | Int32Array, seed: string): Required<LoggedInteractions> {
  const { log, truth } = simulateInteractions(world, exposure, { users, rng: randomStream(seed) });
  return { log, truth, propensity: truth.exposureProbability };
}

function withoutTruth({ log, propensity }: LoggedInteractions): LoggedInteractions {
  return propensity === undefined ? { log } : { log, propensity };
}

/** Equal typed arrays, of the same type, byte for byte. */
function expectSameArray(actual: ArrayBufferView | undefined, expected: ArrayBufferView): void {
  expect(actual).toBeDefined();
  expect(actual!.constructor).toBe(expected.constructor);
  expect(Buffer.from(actual!.buffer, actual!.byteOffset, actual!.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(true);
}

function expectSameLog(actual: LoggedInteractions, expected: LoggedInteractions): void {
  for (const key of ['user', 'item', 'click'] as const) expectSameArray(actual.log[key], expected.log[key]);
  if (expected.propensity === undefined) expect(actual.propensity).toBeUndefined();
  else expectSameArray(actual.propensity, expected.propensity);
  if (expected.truth === undefined) {
    expect(actual.truth).toBeUndefined();
  } else {
    expectSameArray(actual.truth?.exposureProbability, expected.truth.exposureProbability);
    expectSameArray(actual.truth?.preferenceProbability, expected.truth.preferenceProbability);
  }
}

/** Chunks concatenated into one log (the reference a streamed file must read back as). */
function concatenated(chunks: readonly Required<LoggedInteractions>[]): Required<LoggedInteractions> {
  const join = <T extends Int32Array | Uint8Array | Float32Array>(pick: (c: Required<LoggedInteractions>) => T): T => {
    const total = chunks.reduce((n, c) => n + pick(c).length, 0);
    const out = new (pick(chunks[0]).constructor as new (n: number) => T)(total);
    let offset = 0;
    for (const c of chunks) {
      out.set(pick(c), offset);
      offset += pick(c).length;
    }
    return out;
  };
  return {
    log: { user: join((c) => c.log.user), item: join((c) => c.log.item), click: join((c) => c.log.click) },
    propensity: join((c) => c.propensity),
    truth: { exposureProbability: join((c) => c.truth.exposureProbability), preferenceProbability: join((c) => c.truth.preferenceProbability) },
  };
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

const FORMATS: [InteractionLogFormat, string][] = [
  ['csv', 'csv'],
  ['jsonl', 'jsonl'],
  ['arrow', 'arrow'],
  ['arrow', 'feather'],
  ['parquet', 'parquet'],
];

describe('interactionLogFormatOf', () => {
  it('tells the format from the extension', () => {
    expect(interactionLogFormatOf('a/b.CSV')).toBe('csv');
    expect(interactionLogFormatOf('b.jsonl')).toBe('jsonl');
    expect(interactionLogFormatOf('b.feather')).toBe('arrow');
    expect(interactionLogFormatOf('b.parquet')).toBe('parquet');
    expect(() => interactionLogFormatOf('b.txt')).toThrow(/^b.txt: cannot tell the interaction-log format from the file name's extension/);
  });
});

describe('interaction logs as tables', () => {
  it('has one row per pair, and truth only when asked', () => {
    const logged = handMade();
    expect(interactionLogToTable(logged).columnNames()).toEqual(['user_id', 'item_id', 'click', 'pscore']);
    expect(interactionLogToTable(logged, { truth: true }).columnNames()).toEqual(['user_id', 'item_id', 'click', 'pscore', 'truth_exposure_probability', 'truth_preference_probability']);
    expect(interactionLogToTable({ log: logged.log }).columnNames()).toEqual(['user_id', 'item_id', 'click']);
  });

  it('round-trips through a table, with and without truth', () => {
    const logged = simulated(200, 'table');
    expectSameLog(interactionLogFromTable(interactionLogToTable(logged)), withoutTruth(logged));
    expectSameLog(interactionLogFromTable(interactionLogToTable(logged, { truth: true }), { truth: true }), logged);
    expect(interactionLogFromTable(interactionLogToTable(logged, { truth: true })).truth).toBeUndefined();
  });

  it('accepts user, item and reward for user_id, item_id and click, and reads a reordered table in its order', () => {
    const table = makeTable({ user: [2, 2, 1], item: [4, 3, 3], reward: [1, 0, 1] }).orderby('user', 'item');
    const { log, propensity } = interactionLogFromTable(table);
    expect(Array.from(log.user)).toEqual([1, 2, 2]);
    expect(Array.from(log.item)).toEqual([3, 3, 4]);
    expect(Array.from(log.click)).toEqual([1, 0, 1]);
    expect(propensity).toBeUndefined();
  });

  it('rejects a table value that is not a number, naming the data row', () => {
    const table = makeTable({ user_id: [0, 0], item_id: [1, 2], click: [0, '1'] });
    expect(() => interactionLogFromTable(table, { source: 'mine' })).toThrow('mine: row 2: expected a number in column \'click\', found the text "1"');
  });

  it('refuses to write a log that would not read back as it is', () => {
    const { log } = handMade();
    expect(() => interactionLogToTable({ log: { ...log, user: Int32Array.of(3, 0, 3, 7, 7, 7) } })).toThrow(/user 3 in separate runs/);
    expect(() => interactionLogToTable({ log: { ...log, item: Int32Array.of(1, -5, 5, 0, 2, 9) } })).toThrow(/ids ≥ 0 at row 1/);
    expect(() => interactionLogToTable({ log: { ...log, click: Uint8Array.of(1, 0, 2, 1, 1, 0) } })).toThrow(/click of 0 or 1 at row 2/);
    expect(() => interactionLogToTable({ log, propensity: Float32Array.of(0.5, 0, 1, 1, 1, 1) })).toThrow(/propensity in \(0, 1\] at row 1/);
    expect(() => interactionLogToTable({ log, propensity: Float32Array.of(1) })).toThrow(/expected 6 propensities/);
    expect(() => interactionLogToTable({ log }, { truth: true })).toThrow(/has no truth/);
  });
});

describe('round trips on disk', () => {
  for (const [format, extension] of FORMATS) {
    it(`${extension}: hand-made and simulated logs come back byte for byte`, async () => {
      for (const [name, logged] of [
        ['hand', handMade()],
        ['sim', simulated(300, extension)],
      ] as const) {
        const plain = path(`${name}.${extension}`);
        await writeInteractionLog(plain, logged);
        expectSameLog(await readInteractionLog(plain), withoutTruth(logged));
        await expectFormatError(
          () => readInteractionLog(plain, { truth: true }),
          plain,
          null,
          'truth_exposure_probability, truth_preference_probability',
          'missing',
          "found columns: 'user_id', 'item_id', 'click', 'pscore'",
        );

        const withTruth = path(`${name}-truth.${extension}`);
        await writeInteractionLog(withTruth, logged, { truth: true, format });
        expectSameLog(await readInteractionLog(withTruth, { truth: true }), logged);
        expect((await readInteractionLog(withTruth)).truth).toBeUndefined();

        const bare = path(`${name}-bare.${extension}`);
        await writeInteractionLog(bare, { log: logged.log });
        expectSameLog(await readInteractionLog(bare), { log: logged.log });
      }
    });
  }

  it('an empty log round-trips in every format', async () => {
    const empty: LoggedInteractions = { log: { user: new Int32Array(0), item: new Int32Array(0), click: new Uint8Array(0) } };
    for (const extension of ['csv', 'jsonl', 'parquet', 'arrow']) {
      const file = path(`empty.${extension}`);
      await writeInteractionLog(file, empty);
      expectSameLog(await readInteractionLog(file), empty);
    }
  });

  it('takes the format from the option over the extension', async () => {
    const file = path('really-jsonl.txt');
    await writeInteractionLog(file, handMade(), { format: 'jsonl', truth: true });
    expect(readFileSync(file, 'utf8').split('\n')[1]).toBe('{"user_id":3,"item_id":1,"click":1,"pscore":0.5,"truth_exposure_probability":0.5,"truth_preference_probability":0.9}');
    expectSameLog(await readInteractionLog(file, { format: 'jsonl', truth: true }), handMade());
  });

  it('writes CSV with a header and the shortest float32 decimals', async () => {
    const file = path('shape.csv');
    await writeInteractionLog(file, handMade(), { truth: true });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe('# clicklab log {"kind":"interaction-log","version":1}');
    expect(lines[1]).toBe('user_id,item_id,click,pscore,truth_exposure_probability,truth_preference_probability');
    expect(lines[2]).toBe('3,1,1,0.5,0.5,0.9');
    expect(lines[6]).toBe('7,2,1,0.33333334,0.33333334,0.6');
    expect(lines[8]).toBe('# clicklab end rows=6 sessions=0');
    expect(lines.length).toBe(10); // mark, header, six rows, end record, and the final newline
  });
});

describe('other tools’ files', () => {
  it('CSV with aliases, quoting, CRLF and extra columns', async () => {
    const file = write('aliases.csv', ['timestamp,user,item,reward,rating', '"2020-01-01, 10:00",5,3,1,4', '2020-01-02,5,"7",0,2', '2020-01-03,2,3,0,1'].join('\r\n'));
    const { log } = await readInteractionLog(file);
    expect(Array.from(log.user)).toEqual([5, 5, 2]);
    expect(Array.from(log.item)).toEqual([3, 7, 3]);
    expect(Array.from(log.click)).toEqual([1, 0, 0]);
  });

  it('Parquet with 64-bit integers and doubles, as pandas writes them', async () => {
    const file = path('pandas.parquet');
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'user_id', data: BigInt64Array.of(0n, 0n, 4n), type: 'INT64' },
        { name: 'item_id', data: BigInt64Array.of(2n, 9n, 2n), type: 'INT64' },
        { name: 'click', data: BigInt64Array.of(1n, 0n, 0n), type: 'INT64' },
        { name: 'pscore', data: [0.25, 0.5, 0.25], type: 'DOUBLE' },
      ],
    });
    const { log, propensity } = await readInteractionLog(file);
    expect(Array.from(log.item)).toEqual([2, 9, 2]);
    expect(Array.from(propensity!)).toEqual([0.25, 0.5, 0.25]);
  });
});

describe('malformed files', () => {
  const header = 'user_id,item_id,click,pscore';

  /** A CSV file of the header and `rows`; the data rows start on line 2. */
  function csv(name: string, ...rows: string[]): string {
    return write(`${name}.csv`, [header, ...rows, ''].join('\n'));
  }

  it('names the missing columns and the ones there are', async () => {
    const file = write('missing.csv', 'uid,item_id,score\n0,1,1\n');
    await expectFormatError(() => readInteractionLog(file), file, null, 'expected the columns user_id (or user), click (or reward), missing', "found columns: 'uid', 'item_id', 'score'");
    const both = write('both.csv', 'user_id,user,item_id,click\n');
    await expectFormatError(() => readInteractionLog(both), both, null, "'user_id' and 'user'", 'found both');
    const twice = write('twice.csv', 'user_id,item_id,click,click\n');
    await expectFormatError(() => readInteractionLog(twice), twice, { line: 1 }, "'click' twice");
    const empty = write('empty.csv', '');
    await expectFormatError(() => readInteractionLog(empty), empty, null, 'expected a header line');
    const jsonl = write('missing.jsonl', '{"user_id":0,"click":1}\n');
    await expectFormatError(() => readInteractionLog(jsonl), jsonl, null, 'expected the column item_id (or item), missing', "found columns: 'user_id', 'click'");
  });

  it('rejects non-integer or negative ids', async () => {
    let file = csv('user-float', '0,1,0,0.5', '1.5,1,0,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 3 }, "expected an integer in column 'user_id', found 1.5");
    file = csv('item-negative', '0,-2,0,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, "expected an integer in [0, 2147483647] in column 'item_id', found -2");
    file = csv('user-huge', '2147483648,1,0,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, "column 'user_id', found 2147483648");
    file = csv('item-text', '0,abc,0,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, "expected a number in column 'item_id', found 'abc'");
    file = csv('item-empty', '0,,0,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, 'found an empty field');
  });

  it('rejects clicks that are not 0 or 1', async () => {
    const file = csv('click-two', '0,1,0,0.5', '0,2,2,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 3 }, "expected 0 or 1 in column 'click', found 2");
    const jsonl = write('click-bool.jsonl', '{"user_id":0,"item_id":2,"click":true}\n');
    await expectFormatError(() => readInteractionLog(jsonl), jsonl, { line: 1 }, "expected a number for 'click', found the boolean true");
  });

  it('rejects propensities outside (0, 1]', async () => {
    for (const [name, value] of [
      ['zero', '0'],
      ['above', '1.5'],
      ['negative', '-0.1'],
      ['nan', 'NaN'],
      ['underflow', '1e-50'],
    ] as const) {
      const file = csv(`pscore-${name}`, '0,1,0,0.5', `0,3,0,${value}`);
      // NaN is not a decimal number, so the tokeniser rejects it before the range check.
      const expected = name === 'nan' ? "expected a number in column 'pscore'" : "expected a propensity in (0, 1] in column 'pscore'";
      await expectFormatError(() => readInteractionLog(file), file, { line: 3 }, expected, value);
    }
  });

  it('rejects truth probabilities outside [0, 1] when truth is read', async () => {
    const file = write('truth.csv', 'user_id,item_id,click,truth_exposure_probability,truth_preference_probability\n0,1,0,0.5,1.25\n');
    await expectFormatError(() => readInteractionLog(file, { truth: true }), file, { line: 2 }, "column 'truth_preference_probability', found 1.25");
    expect((await readInteractionLog(file)).log.user.length).toBe(1);
  });

  it("rejects a user whose rows are not contiguous, with the line where the user's rows began", async () => {
    const file = csv('not-contiguous', '5,1,0,0.5', '5,2,0,0.5', '6,1,0,0.5', '5,4,0,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 5 }, 'contiguous', 'user 5 again', 'began on line 2');
    // Decreasing users are fine as long as each user's rows stay together.
    const decreasing = csv('decreasing', '9,1,0,0.5', '3,1,1,0.5', '3,0,0,0.5', '4,7,0,0.5');
    expect(Array.from((await readInteractionLog(decreasing)).log.user)).toEqual([9, 3, 3, 4]);
  });

  it('rejects broken CSV and JSON lines', async () => {
    let file = csv('short', '0,1,0');
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, 'expected 4 fields (as in the header), found 3');
    file = csv('blank', '0,1,0,0.5', '', '1,1,0,0.5');
    await expectFormatError(() => readInteractionLog(file), file, { line: 3 }, 'found an empty line');
    const first = '{"user_id":0,"item_id":1,"click":0}';
    file = write('invalid.jsonl', `${first}\n{"user_id":1,\n`);
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, 'expected a JSON object, found invalid JSON');
    file = write('missing-key.jsonl', `${first}\n{"user_id":1,"click":0}\n`);
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, "expected the key 'item_id' (as on line 1), found none");
    file = write('string.jsonl', `${first}\n{"user_id":"1","item_id":1,"click":0}\n`);
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, 'expected a number for \'user_id\', found the text "1"');
    file = write('late-pscore.jsonl', `${first}\n{"user_id":1,"item_id":1,"click":0,"pscore":0.5}\n`);
    await expectFormatError(() => readInteractionLog(file), file, { line: 2 }, "expected no 'pscore' (line 1 has none)");
    file = write('jsonl-contiguous.jsonl', `${first}\n{"user_id":1,"item_id":1,"click":0}\n${first}\n`);
    await expectFormatError(() => readInteractionLog(file), file, { line: 3 }, 'user 0 again', 'began on line 1');
  });

  it('names the 1-based data row in Arrow and Parquet files', async () => {
    const columns = { user_id: [0, 0, 1], item_id: [2, 3, -2], click: [0, 0, 1] };
    const arrow = path('bad.arrow');
    writeFileSync(arrow, toArrowIPC(makeTable(columns), { format: 'file' }));
    await expectFormatError(() => readInteractionLog(arrow), arrow, { row: 3 }, "column 'item_id', found -2");
    const huge = path('huge.arrow');
    writeFileSync(huge, toArrowIPC(makeTable({ ...columns, item_id: [2, 3, 2], user_id: BigInt64Array.of(0n, 0n, 2n ** 60n) })));
    await expectFormatError(() => readInteractionLog(huge), huge, { row: 3 }, "expected an integer within ±(2^53 − 1) in column 'user_id'");

    const parquet = path('bad.parquet');
    parquetWriteFile({
      filename: parquet,
      columnData: [
        { name: 'user_id', data: [0, 1, 0], type: 'INT32' },
        { name: 'item_id', data: [2, 3, 2], type: 'INT32' },
        { name: 'click', data: [0, 1, 1], type: 'INT32' },
      ],
    });
    await expectFormatError(() => readInteractionLog(parquet), parquet, { row: 3 }, 'contiguous', 'user 0 again', 'began on row 1');
    const pscore = path('bad-pscore.parquet');
    parquetWriteFile({
      filename: pscore,
      columnData: [
        { name: 'user', data: [0, 0], type: 'INT32' },
        { name: 'item', data: [2, 3], type: 'INT32' },
        { name: 'reward', data: [0, 1], type: 'INT32' },
        { name: 'pscore', data: [0.5, 0], type: 'DOUBLE' },
      ],
    });
    await expectFormatError(() => readInteractionLog(pscore), pscore, { row: 2 }, "expected a propensity in (0, 1] in column 'pscore', found 0");
  });

  it('rejects files that are not Arrow or Parquet at all', async () => {
    const notArrow = write('not.arrow', 'user_id,item_id\n');
    await expectFormatError(() => readInteractionLog(notArrow), notArrow, null, 'expected Arrow IPC data');
    const notParquet = write('not.parquet', 'user_id,item_id,click\n0,0,0\n');
    await expectFormatError(() => readInteractionLog(notParquet), notParquet, null, 'not a complete Parquet file (no footer): truncated?');
  });
});

describe('InteractionLogWriter', () => {
  for (const extension of ['csv', 'jsonl', 'parquet']) {
    it(`${extension}: chunks of users read back as one log`, async () => {
      const file = path(`chunks.${extension}`);
      // Chunks of distinct users, one of them a single user, as a simulator hands them over.
      const chunks = [
        simulated(
          Int32Array.from({ length: 150 }, (_, u) => u),
          'c/0',
        ),
        simulated(Int32Array.of(150), 'c/1'),
        simulated(
          Int32Array.from({ length: 200 }, (_, k) => 399 - k),
          'c/2',
        ),
      ];
      const writer = await InteractionLogWriter.open(file, { truth: true });
      for (const chunk of chunks) await writer.write(chunk);
      await writer.close();
      const expected = concatenated(chunks);
      expect(writer.rows).toBe(expected.log.user.length);
      expectSameLog(await readInteractionLog(file, { truth: true }), expected);
      expectSameLog(await readInteractionLog(file), withoutTruth(expected));
    });
  }

  it('keeps the columns of the first chunk, and refuses Arrow', async () => {
    const writer = await InteractionLogWriter.open(path('mixed.csv'));
    await writer.write(handMade());
    await expect(writer.write({ log: handMade().log })).rejects.toThrow(/first chunk had propensities/);
    await writer.close();
    await expect(writer.write(handMade())).rejects.toThrow(/write after close/);
    await expect(InteractionLogWriter.open(path('x.arrow'))).rejects.toThrow(ConfigError);
    const truthless = await InteractionLogWriter.open(path('truthless.jsonl'), { truth: true });
    await expect(truthless.write({ log: handMade().log })).rejects.toThrow(/has no truth/);
    await truthless.close();
  });

  it('writes a header even when no chunk came', async () => {
    const file = path('none.csv');
    const writer = await InteractionLogWriter.open(file, { truth: true });
    await writer.close();
    expect(readFileSync(file, 'utf8')).toBe(
      '# clicklab log {"kind":"interaction-log","version":1}\nuser_id,item_id,click,truth_exposure_probability,truth_preference_probability\n# clicklab end rows=0 sessions=0\n',
    );
    expect((await readInteractionLog(file, { truth: true })).log.user.length).toBe(0);
  });
});
