import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError } from '../../src/core/errors.js';
import { parseLetor, readLetorFile, readLetorFileSync, readLetorFiles, readLetorFilesSync } from '../../src/data/letor.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-letor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Asserts a DataFormatError naming the file and line, with `words` in its message. */
function expectFormatError(run: () => unknown, file: string, line: number | null, ...words: string[]): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DataFormatError);
  const e = error as DataFormatError;
  expect(e.file).toBe(file);
  expect(e.line).toBe(line);
  expect(e.message).toContain(line === null ? `${file}: ` : `${file}:${line}: `);
  for (const word of words) expect(e.message).toContain(word);
}

const sample = [
  '# a comment line',
  '2 qid:10 1:0.5 3:-1.25 #docid = GX000-00-0000001 inc = 1 prob = 0.02',
  '',
  '0 qid:10 2:1e-3 3:4#docid=GX000-00-0000002',
  '1.0 qid:7 #docid = d3',
  '   ',
  '0 qid:7 1:+3 2:.5 3:2. # docid = d4 trailing',
].join('\n');

describe('parseLetor', () => {
  it('reads labels, qid runs, sparse features, doc ids and comments', () => {
    const data = parseLetor(sample, 'sample.txt');
    expect(data.source).toBe('sample.txt');
    expect(data.numFeatures).toBe(3);
    expect(Array.from(data.labels)).toEqual([2, 0, 1, 0]);
    expect(Array.from(data.queryOffsets)).toEqual([0, 2, 4]);
    expect(data.qids).toEqual(['10', '7']);
    expect(data.docIds).toEqual(['GX000-00-0000001', 'GX000-00-0000002', 'd3', 'd4']);
    expect(Array.from(data.features)).toEqual([0.5, 0, -1.25, 0, Math.fround(1e-3), 4, 0, 0, 0, 3, 0.5, 2]);
  });

  it('gives the same result for CRLF line endings and no final newline', () => {
    const lf = parseLetor(sample, 'a.txt');
    const crlf = parseLetor(sample.replaceAll('\n', '\r\n') + '\r\n', 'a.txt');
    expect(crlf).toEqual(lf);
  });

  it('has docIds null when no line has one, and pads to a given numFeatures', () => {
    const data = parseLetor('1 qid:a 2:1\n0 qid:a\n3 qid:b 1:2 # just a comment\n', 'x.txt', { numFeatures: 4 });
    expect(data.docIds).toBeNull();
    expect(data.numFeatures).toBe(4);
    expect(Array.from(data.features)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
    expect(data.qids).toEqual(['a', 'b']);
  });

  it('widens the matrix when a later line has a higher feature index', () => {
    const data = parseLetor('0 qid:1 1:1 2:2\n0 qid:1 5:5\n1 qid:2 3:3\n', 'w.txt');
    expect(data.numFeatures).toBe(5);
    expect(Array.from(data.features)).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 3, 0, 0]);
  });

  it('parses numbers like Number() does, rounded to float32', () => {
    const values = ['0.0246', '-7', '123456.789', '1.5e10', '2.5E-30', '0.12345678901234567890', '3.4e38', '-0.000001'];
    const line = `0 qid:1 ${values.map((v, i) => `${i + 1}:${v}`).join(' ')}`;
    const data = parseLetor(line, 'n.txt');
    expect(Array.from(data.features)).toEqual(values.map((v) => Math.fround(Number(v))));
  });

  it('keeps non-ASCII qids and doc ids', () => {
    const data = parseLetor('0 qid:ü 1:1 #docid = dé\n1 qid:ü 1:2 #docid = 文書\n', 'u.txt');
    expect(data.qids).toEqual(['ü']);
    expect(data.docIds).toEqual(['dé', '文書']);
  });

  it('rejects a bad numFeatures option', () => {
    expect(() => parseLetor('0 qid:1 1:1', 'x.txt', { numFeatures: 0 })).toThrow(ConfigError);
  });
});

describe('parseLetor errors', () => {
  const f = 'bad.txt';
  const parse =
    (text: string, options = {}) =>
    () =>
      parseLetor(text, f, options);
  const ok = '0 qid:1 1:0.5\n';

  it('a token that is not index:value', () => {
    expectFormatError(parse(ok + '\n0 qid:1 1:0.5 junk\n'), f, 3, 'expected', "'<index>:<value>'", 'junk');
    expectFormatError(parse(ok + '0 qid:1 2\n'), f, 2, 'expected', '<index>:<value>');
    expectFormatError(parse(ok + '0 qid:1 x:1\n'), f, 2, 'expected', '<index>:<value>');
  });

  it('a non-numeric value', () => {
    expectFormatError(parse(ok + '0 qid:1 1:abc\n'), f, 2, 'expected a numeric feature value', "'1:abc'");
    expectFormatError(parse(ok + '0 qid:1 1:1.2.3\n'), f, 2, 'numeric');
    expectFormatError(parse(ok + '0 qid:1 1:\n'), f, 2, 'numeric');
    expectFormatError(parse(ok + '0 qid:1 1:nan\n'), f, 2, 'numeric');
  });

  it('a value that overflows float32, as features are stored (issue 16)', () => {
    expectFormatError(parse(ok + '0 qid:1 1:1e400\n'), f, 2, 'expected a feature value within the float32 range', "'1:1e400'");
    expectFormatError(parse(ok + '0 qid:1 1:0.5 2:-1e39\n'), f, 2, 'float32 range', "'2:-1e39'");
  });

  it('a feature index beyond what dense rows can hold, naming the bound (issue 16)', () => {
    expectFormatError(parse(ok + '0 qid:1 99999999:1\n'), f, 2, 'expected a feature index <= 65536', "'99999999:1'");
  });

  it('a feature index below 1 or above numFeatures', () => {
    expectFormatError(parse(ok + '0 qid:1 0:1\n'), f, 2, 'expected a feature index >= 1', "'0:1'");
    expectFormatError(parse(ok + '0 qid:1 1:1 47:1\n', { numFeatures: 46 }), f, 2, 'expected a feature index <= numFeatures = 46', "'47:1'");
  });

  it('feature indices that do not increase', () => {
    expectFormatError(parse(ok + ok + '0 qid:1 1:1 3:1 2:1\n'), f, 3, 'expected feature indices in increasing order', '2 after 3');
    expectFormatError(parse(ok + '0 qid:1 1:1 1:2\n'), f, 2, 'increasing', '1 after 1');
  });

  it('a missing or malformed qid', () => {
    expectFormatError(parse(ok + '0 1:0.5\n'), f, 2, "expected 'qid:<id>'", "'1:0.5'");
    expectFormatError(parse(ok + '0\n'), f, 2, "expected 'qid:<id>'", 'end of line');
    expectFormatError(parse(ok + '0 qid: 1:1\n'), f, 2, "expected a query id after 'qid:'");
    expectFormatError(parse(ok + '0 QID:1 1:1\n'), f, 2, "expected 'qid:<id>'");
  });

  it('a label that is not a non-negative integer', () => {
    expectFormatError(parse(ok + '1.5 qid:1 1:1\n'), f, 2, 'expected an integer relevance label', "'1.5'");
    expectFormatError(parse(ok + 'abc qid:1 1:1\n'), f, 2, 'expected an integer relevance label', "'abc'");
    expectFormatError(parse('qid:1 1:1\n'), f, 1, 'expected an integer relevance label', "'qid:1'");
    expectFormatError(parse(ok + '-1 qid:1 1:1\n'), f, 2, 'expected a relevance label >= 0', "'-1'");
  });

  it('a qid that comes back after another qid', () => {
    const text = '0 qid:1 1:1\n0 qid:1 1:1\n\n0 qid:2 1:1\n0 qid:1 1:1\n';
    expectFormatError(parse(text), f, 5, 'expected the lines of a query to be contiguous', 'qid:1', 'line 1');
  });

  it('docids on some lines but not others', () => {
    expectFormatError(parse('0 qid:1 1:1 #docid = a\n0 qid:1 1:1\n'), f, 2, "expected a '#docid = ...' comment", 'line 1');
    expectFormatError(parse('0 qid:1 1:1\n0 qid:1 1:1 #docid = a\n'), f, 2, "expected no '#docid = ...' comment", 'line 1');
  });

  it('a file without data lines', () => {
    expectFormatError(parse(''), f, null, 'expected at least one data line');
    expectFormatError(parse('# only a comment\n\n  \n'), f, null, 'expected at least one data line');
  });
});

describe('reading files', () => {
  // Big enough to cross several stream chunks (64 KiB), so lines are cut between chunks.
  const lines: string[] = [];
  for (let q = 0; q < 300; q++) {
    for (let d = 0; d < 10; d++) {
      const features = Array.from({ length: 20 }, (_, i) => `${i + 1}:${((q * 31 + d * 7 + i) % 1000) / 997}`).join(' ');
      lines.push(`${(q + d) % 3} qid:${q} ${features} #docid = q${q}d${d}`);
    }
  }
  const text = lines.join('\n') + '\n';
  const expected = parseLetor(text, 'big.txt');

  it('reads a plain file, sync and streamed', async () => {
    const path = write('big.txt', text);
    expect(readLetorFileSync(path)).toEqual({ ...expected, source: path });
    expect(await readLetorFile(path)).toEqual({ ...expected, source: path });
  });

  it('reads gzip by its magic bytes, whatever the file name', async () => {
    const gz = write('big.txt.gz', gzipSync(text));
    const disguised = write('big-gzip.txt', gzipSync(text));
    expect(readLetorFileSync(gz)).toEqual({ ...expected, source: gz });
    expect(readLetorFileSync(disguised)).toEqual({ ...expected, source: disguised });
    expect(await readLetorFile(gz)).toEqual({ ...expected, source: gz });
    expect(await readLetorFile(disguised)).toEqual({ ...expected, source: disguised });
  });

  it('reports broken gzip data', async () => {
    const broken = write('broken.gz', gzipSync(text).subarray(0, 5000));
    expect(() => readLetorFileSync(broken)).toThrow(DataFormatError);
    await expect(readLetorFile(broken)).rejects.toThrow(DataFormatError);
  });

  it('reports line numbers within the right file when streaming', async () => {
    const bad = write('bad-late.txt.gz', gzipSync(text + '0 qid:9999 1:oops\n'));
    await expect(readLetorFile(bad)).rejects.toThrow(`${bad}:${lines.length + 1}: expected a numeric feature value`);
    expectFormatError(() => readLetorFileSync(bad), bad, lines.length + 1, 'numeric');
  });

  it('joins several files into one, sync and streamed', async () => {
    const a = write('a.txt', '1 qid:1 1:1\n0 qid:1 2:2\n');
    const b = write('b.txt.gz', gzipSync('2 qid:2 3:3\n'));
    for (const data of [readLetorFilesSync([a, b], 'a+b'), await readLetorFiles([a, b], 'a+b')]) {
      expect(data.source).toBe('a+b');
      expect(data.numFeatures).toBe(3);
      expect(Array.from(data.labels)).toEqual([1, 0, 2]);
      expect(Array.from(data.queryOffsets)).toEqual([0, 2, 3]);
      expect(data.qids).toEqual(['1', '2']);
      expect(Array.from(data.features)).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3]);
    }
  });

  it('rejects a qid that reappears in a later file, naming where it was', async () => {
    const a = write('first.txt', '1 qid:1 1:1\n1 qid:2 1:1\n');
    const b = write('second.txt', '\n0 qid:2 1:1\n');
    expectFormatError(() => readLetorFilesSync([a, b], 'a+b'), b, 2, 'contiguous', 'qid:2', `${a}:2`);
    await expect(readLetorFiles([a, b], 'a+b')).rejects.toThrow(`${b}:2: expected the lines of a query to be contiguous`);
  });

  it('rejects an empty file among several', () => {
    const a = write('full.txt', '1 qid:1 1:1\n');
    const empty = write('empty.txt', '');
    expectFormatError(() => readLetorFilesSync([a, empty], 'a+empty'), empty, null, 'expected at least one data line');
  });
});
