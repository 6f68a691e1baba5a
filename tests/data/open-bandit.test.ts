import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError } from '../../src/core/errors.js';
import { loadOpenBanditPriors, loadOpenBanditSample, openBanditPath, readOpenBanditItemContext, readOpenBanditLog } from '../../src/data/open-bandit.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-obd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Asserts a DataFormatError naming the file and line, with `words` in its message. */
async function expectFormatError(run: Promise<unknown>, file: string, line: number | null, ...words: string[]): Promise<void> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataFormatError);
  const e = error as DataFormatError;
  expect(e.file).toBe(file);
  expect(e.line).toBe(line);
  for (const word of words) expect(e.message).toContain(word);
}

const HEADER = ',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2';
const ROW = (item: string, position: string, click: string, p: string, time = '2019-11-24 00:03:13.442536+00:00') => `0,${time},${item},${position},${click},${p},aa,bb,cc,dd,0.0,1.5,0`;

describe('Open Bandit Dataset loader', () => {
  it('ships the sample byte for byte (the sha256 of PROVENANCE.md) and reads it', async () => {
    const bytes = gunzipSync(readFileSync(openBanditPath('random/men/men.csv.gz')));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('ede6d08c6877f99cd3770f7d09e26c738e6aa6de4445ccccfb1356ba5d06b1eb');
    const { log, items } = await loadOpenBanditSample('random', 'men');
    expect(log.numItems).toBe(34);
    expect(log.reward.length).toBe(10_000);
    // Counts from PROVENANCE.md (an independent parser): rows per position 3284/3388/3328, 46 clicks.
    const perPosition = [0, 0, 0];
    for (const k of log.position) perPosition[k]++;
    expect(perPosition).toEqual([3284, 3388, 3328]);
    expect(log.reward.reduce((s, c) => s + c, 0)).toBe(46);
    for (const p of log.pscore) expect(p).toBeCloseTo(1 / 34, 12);
    expect(log.userFeatureValues.map((v) => v.length)).toEqual([3, 5, 9, 8]);
    expect(log.timestamp[0]).toBe(Date.UTC(2019, 10, 24, 0, 3, 13) + 0.442536 * 1000);
    expect(items.feature0.length).toBe(34);
    expect(items.feature0[0]).toBeCloseTo(-0.6771831139635117, 15);
    const bts = await loadOpenBanditSample('bts', 'men');
    expect(bts.log.reward.reduce((s, c) => s + c, 0)).toBe(69);
    const women = await loadOpenBanditSample('random', 'women');
    expect(women.log.numItems).toBe(46);
    await expect(loadOpenBanditSample('bts', 'women')).rejects.toThrow(ConfigError);
  });

  it('reads plain and gzip files alike', async () => {
    const text = `${HEADER}\n${ROW('2', '1', '1', '0.5')}\n${ROW('0', '3', '0', '0.25', '2019-11-24 00:00:00+01:00')}\r\n`;
    const plain = await readOpenBanditLog(write('small.csv', text));
    const gz = await readOpenBanditLog(write('small.csv.gz', gzipSync(text)));
    expect({ ...gz, source: '' }).toEqual({ ...plain, source: '' });
    expect(Array.from(plain.action)).toEqual([2, 0]);
    expect(Array.from(plain.position)).toEqual([0, 2]);
    expect(Array.from(plain.reward)).toEqual([1, 0]);
    expect(Array.from(plain.affinity)).toEqual([0, 1.5, 0, 0, 1.5, 0]);
    expect(plain.timestamp[1]).toBe(Date.UTC(2019, 10, 23, 23, 0, 0));
  });

  it('rejects malformed rows, naming the file, the line and the expected form', async () => {
    const bad = async (name: string, row: string, ...words: string[]) => {
      const file = write(name, `${HEADER}\n${ROW('1', '2', '0', '0.5')}\n${row}\n`);
      await expectFormatError(readOpenBanditLog(file), file, 3, ...words);
    };
    await bad('item.csv', ROW('3', '1', '0', '0.5'), 'expected an integer item id in [0, 2]', "column 'item_id', found '3'");
    await bad('position.csv', ROW('1', '4', '0', '0.5'), 'expected a position 1, 2 or 3', "found '4'");
    await bad('click.csv', ROW('1', '1', 'yes', '0.5'), "expected 0 or 1 in column 'click', found 'yes'");
    await bad('pscore.csv', ROW('1', '1', '0', '0'), "expected a probability in (0, 1] in column 'propensity_score', found '0'");
    await bad('time.csv', ROW('1', '1', '0', '0.5', 'yesterday'), "expected a timestamp like '2019-11-24 00:03:13.442536+00:00'");
    await bad('fields.csv', `${ROW('1', '1', '0', '0.5')},extra`, 'expected 13 fields (as in the header), found 14');
    await bad('affinity.csv', ROW('1', '1', '0', '0.5').replace(',1.5,', ',x,'), "expected a number in column 'user-item_affinity_1', found 'x'");
    await bad('empty.csv', '', 'expected a data row, found an empty line');
    const header = write('header.csv', ',timestamp,item_id,click\n');
    await expectFormatError(readOpenBanditLog(header), header, 1, 'expected the Open Bandit Dataset columns position, propensity_score, user_feature_0');
    const broken = write('broken.csv.gz', gzipSync(`${HEADER}\n${ROW('1', '1', '0', '0.5')}\n`).subarray(0, 30));
    await expectFormatError(readOpenBanditLog(broken), broken, null, 'expected valid gzip data');
  });

  it('reads item contexts and rejects a missing or repeated item', async () => {
    const head = ',item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3\n';
    const good = await readOpenBanditItemContext(write('items.csv', `${head}0,1,0.5,a,b,c\n1,0,-1,a,x,c\n`), 2);
    expect(Array.from(good.feature0)).toEqual([-1, 0.5]);
    expect(Array.from(good.categories)).toEqual([0, 1, 0, 0, 0, 0]);
    const repeated = write('items-repeated.csv', `${head}0,1,0.5,a,b,c\n1,1,-1,a,x,c\n`);
    await expectFormatError(readOpenBanditItemContext(repeated, 2), repeated, 3, 'expected each item id once, found item 1 again');
    const missing = write('items-missing.csv', `${head}0,1,0.5,a,b,c\n`);
    await expectFormatError(readOpenBanditItemContext(missing, 2), missing, null, 'expected a row for every item id 0..1, missing 0');
  });

  it('ships OBP’s Bernoulli TS priors for the men campaign', async () => {
    const priors = await loadOpenBanditPriors('men');
    expect(priors.alpha.length).toBe(34);
    expect(priors.beta.length).toBe(34);
    // Prior CTRs α/(α+β) span 0.09%–0.5% as REFERENCES.md says of ZOZOTOWN's priors.
    for (let a = 0; a < 34; a++) {
      const ctr = priors.alpha[a] / (priors.alpha[a] + priors.beta[a]);
      expect(ctr).toBeGreaterThan(0.0008);
      expect(ctr).toBeLessThan(0.006);
    }
  });
});
