/**
 * The bytes the log writers put on disk, pinned by hash: a refactoring of the writers must leave
 * every file the same, byte for byte (readers elsewhere, pyarrow included, rely on the layout).
 * The logs are long enough (over 2^16 rows) to cross the text writers' block size, and are written
 * in two chunks, so that session numbering and Parquet row groups across chunks are covered too.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClickLogWriter, writeClickLog, type ClickLogFormat } from '../../src/data/click-log-io.js';
import type { LoggedClicks } from '../../src/data/click-log-table.js';
import { InteractionLogWriter, writeInteractionLog } from '../../src/data/interaction-log-io.js';
import type { LoggedInteractions } from '../../src/data/interaction-log-table.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-log-bytes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small deterministic generator, so that the data never depends on another module's random streams. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function clicks(sessions: number, seed: number): Required<LoggedClicks> {
  const random = lcg(seed);
  const lengths = Array.from({ length: sessions }, () => 1 + Math.floor(random() * 10));
  const rows = lengths.reduce((a, b) => a + b, 0);
  const sessionOffsets = new Int32Array(sessions + 1);
  const sessionQuery = new Int32Array(sessions);
  const document = new Int32Array(rows);
  const position = new Uint16Array(rows);
  const click = new Uint8Array(rows);
  const propensity = new Float32Array(rows);
  const examinationProbability = new Float32Array(rows);
  const relevanceProbability = new Float32Array(rows);
  const examined = new Uint8Array(rows);
  let row = 0;
  for (let s = 0; s < sessions; s++) {
    sessionQuery[s] = Math.floor(random() * 500);
    for (let k = 0; k < lengths[s]; k++, row++) {
      document[row] = Math.floor(random() * 100000);
      position[row] = k;
      click[row] = random() < 0.3 ? 1 : 0;
      // A few repeated values (as simulated logs have) and many distinct ones.
      propensity[row] = k < 3 ? 1 / (k + 2) : Math.max(1e-6, random());
      examinationProbability[row] = 1 / (k + 1);
      relevanceProbability[row] = random();
      examined[row] = random() < 0.5 ? 1 : 0;
    }
    sessionOffsets[s + 1] = row;
  }
  return {
    log: { sessionQuery, sessionOffsets, document, position, click },
    propensity,
    truth: { examinationProbability, relevanceProbability, examined },
  };
}

function interactions(users: number, seed: number, firstUser: number): Required<LoggedInteractions> {
  const random = lcg(seed);
  const counts = Array.from({ length: users }, () => 1 + Math.floor(random() * 20));
  const rows = counts.reduce((a, b) => a + b, 0);
  const user = new Int32Array(rows);
  const item = new Int32Array(rows);
  const click = new Uint8Array(rows);
  const propensity = new Float32Array(rows);
  const preferenceProbability = new Float32Array(rows);
  let row = 0;
  for (let u = 0; u < users; u++) {
    for (let k = 0; k < counts[u]; k++, row++) {
      user[row] = firstUser + u;
      item[row] = Math.floor(random() * 3000);
      click[row] = random() < 0.2 ? 1 : 0;
      propensity[row] = Math.max(1e-6, (item[row] % 37) / 37);
      preferenceProbability[row] = random();
    }
  }
  return { log: { user, item, click }, propensity, truth: { exposureProbability: propensity, preferenceProbability } };
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

/** The hash of a CSV or JSON Lines file without its first line (the clicklab mark) and last line (the end record). */
function bodySha256(file: string): string {
  const text = readFileSync(file, 'utf8');
  const body = text.slice(text.indexOf('\n') + 1, text.lastIndexOf('\n', text.length - 2) + 1);
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/** Hashes of the text files' bodies, kept beside the whole files' hashes. */
const bodies: Record<string, string> = {};

function record(hashes: Record<string, string>, name: string, file: string): void {
  hashes[name] = sha256(file);
  if (name.endsWith('.csv') || name.endsWith('.jsonl')) bodies[name] = bodySha256(file);
}

const EXTENSIONS: Record<ClickLogFormat, string> = { csv: 'csv', jsonl: 'jsonl', arrow: 'arrow', parquet: 'parquet' };
const FORMATS: ClickLogFormat[] = ['csv', 'jsonl', 'arrow', 'parquet'];

function withoutExtras<T extends { log: unknown }>(logged: T): T {
  return { log: logged.log } as T;
}

/** Writes every variant and returns the hash of each file by name. */
async function writeAll(): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  const c1 = clicks(7000, 1);
  const c2 = clicks(5000, 2);
  const i1 = interactions(4000, 3, 0);
  const i2 = interactions(3000, 4, 4000);
  for (const format of FORMATS) {
    for (const variant of ['plain', 'full'] as const) {
      const truth = variant === 'full';
      const pick = <T extends { log: unknown }>(x: T): T => (truth ? x : withoutExtras(x));
      const clickFile = join(dir, `clicks-${variant}.${EXTENSIONS[format]}`);
      const interactionFile = join(dir, `interactions-${variant}.${EXTENSIONS[format]}`);
      if (format === 'arrow') {
        await writeClickLog(clickFile, pick(c1), { truth });
        await writeInteractionLog(interactionFile, pick(i1), { truth });
      } else {
        const cw = await ClickLogWriter.open(clickFile, { truth });
        await cw.write(pick(c1));
        await cw.write(pick(c2));
        await cw.close();
        const iw = await InteractionLogWriter.open(interactionFile, { truth });
        await iw.write(pick(i1));
        await iw.write(pick(i2));
        await iw.close();
      }
      record(hashes, `clicks-${variant}.${format}`, clickFile);
      record(hashes, `interactions-${variant}.${format}`, interactionFile);
    }
    const emptyClicks = join(dir, `clicks-empty.${EXTENSIONS[format]}`);
    const emptyInteractions = join(dir, `interactions-empty.${EXTENSIONS[format]}`);
    const noClicks: LoggedClicks = {
      log: { sessionQuery: new Int32Array(0), sessionOffsets: new Int32Array(1), document: new Int32Array(0), position: new Uint16Array(0), click: new Uint8Array(0) },
    };
    const noInteractions: LoggedInteractions = { log: { user: new Int32Array(0), item: new Int32Array(0), click: new Uint8Array(0) } };
    await writeClickLog(emptyClicks, noClicks);
    await writeInteractionLog(emptyInteractions, noInteractions);
    record(hashes, `clicks-empty.${format}`, emptyClicks);
    record(hashes, `interactions-empty.${format}`, emptyInteractions);
  }
  return hashes;
}

describe('log writers', () => {
  it('write the same bytes as before', async () => {
    const hashes = await writeAll();
    // The rows of CSV and JSON Lines files, without the first line (the clicklab mark) and the last
    // (the end record), are the bytes the writers wrote before the marks came (issue 16): the hashes
    // (sha256, first 16 hex digits) of those files, pinned since the writers shared one format layer.
    expect(bodies).toEqual({
      'clicks-empty.csv': '5c4bcad4e900d234',
      'clicks-empty.jsonl': 'e3b0c44298fc1c14',
      'clicks-full.csv': 'b857a76b12516751',
      'clicks-full.jsonl': '9145dd3f3926f7cd',
      'clicks-plain.csv': 'b2a9aa03d77c9700',
      'clicks-plain.jsonl': 'ce99577c7d758230',
      'interactions-empty.csv': '13f768f22111ab9d',
      'interactions-empty.jsonl': 'e3b0c44298fc1c14',
      'interactions-full.csv': 'e4fd83da8bc81893',
      'interactions-full.jsonl': 'd93709311d196c7e',
      'interactions-plain.csv': '9f59ced596e6d55d',
      'interactions-plain.jsonl': '1398af7d7e7b5bb7',
    });
    // The whole files, marks included (and the `clicklab` key-value metadata of Arrow and Parquet files),
    // as written since issue 16 (Parquet: by DuckDB, zstd, since the real-logs issue); a change here is a change of the file format.
    expect(hashes).toEqual({
      'clicks-empty.arrow': '92bf8b42a1b53836',
      'clicks-empty.csv': 'b3570e0c81ee1e24',
      'clicks-empty.jsonl': '68501fcd1e3e17d6',
      'clicks-empty.parquet': '19e162d7b65ed3e2',
      'clicks-full.arrow': '2ca6b553b214f931',
      'clicks-full.csv': '0fe3b71f2200374e',
      'clicks-full.jsonl': '5b4ab127e581cf01',
      'clicks-full.parquet': '454bc4fd3f904324',
      'clicks-plain.arrow': '3e56cde96a4ebfe7',
      'clicks-plain.csv': '7d287fe65121b6e9',
      'clicks-plain.jsonl': 'eb4817150563354f',
      'clicks-plain.parquet': '215d329d4467c230',
      'interactions-empty.arrow': '00089e39db2c4133',
      'interactions-empty.csv': 'f40e200510285c4e',
      'interactions-empty.jsonl': '8f1f901d1da44d5b',
      'interactions-empty.parquet': '6c8996784a79a762',
      'interactions-full.arrow': '7a39f2e0ab9ab604',
      'interactions-full.csv': '70517ccdca1076fd',
      'interactions-full.jsonl': '7157d6ca6afa5998',
      'interactions-full.parquet': '13a6c5f58f7a4e38',
      'interactions-plain.arrow': '884b02356d6036f8',
      'interactions-plain.csv': '97067729e8e4fc98',
      'interactions-plain.jsonl': '9bb4e60ad73c5e8a',
      'interactions-plain.parquet': '4dd0754dede0ff7a',
    });
  });
});
