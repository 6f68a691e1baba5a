/**
 * Reading throughput of the real-log loaders, each as a ratio to clicklab's own CSV reader on the
 * same sessions (same process, same machine): a Yandex text log, a generic CSV with text ids and no
 * session column, and Baidu-ULTR sessions in Parquet list columns. Files are generated, then removed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { randomStream } from '../core/random.js';
import { readBaiduUltrClicks } from '../data/baidu-ultr.js';
import { readClickLog, readGenericClickLog } from '../data/click-log-io.js';
import { readYandexRelPredLog } from '../data/yandex-relpred.js';
import type { BenchmarkRow } from './rows.js';

/** `sessions` pages of 10 results with one click each, written in four formats and read back. */
export async function realLogReadingRows(sessions: number): Promise<BenchmarkRow[]> {
  const rng = randomStream('real-logs');
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-real-logs-'));
  const yandex: string[] = [];
  const csv = ['session,query,item_id,position,click'];
  const generic = ['qid,url,rank,clicked'];
  const baidu = { query_id: [] as string[], url_md5: [] as string[][], position: [] as number[][], click: [] as number[][] };
  for (let s = 0; s < sessions; s++) {
    const query = rng.int(5000);
    const urls = Array.from({ length: 10 }, () => rng.int(1_000_000));
    const clicked = rng.int(10);
    yandex.push(`${s}\t0\tQ\t${query}\t1\t${urls.join('\t')}`, `${s}\t5\tC\t${urls[clicked]}`);
    urls.forEach((u, k) => {
      csv.push(`${s},${query},${u},${k + 1},${k === clicked ? 1 : 0}`);
      generic.push(`q${query},https://u.example/${u},${k + 1},${k === clicked ? 1 : 0}`);
    });
    baidu.query_id.push(String(query));
    baidu.url_md5.push(urls.map(String));
    baidu.position.push(urls.map((_, k) => k + 1));
    baidu.click.push(urls.map((_, k) => (k === clicked ? 1 : 0)));
  }
  const file = (name: string, content: string | Uint8Array): string => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const listOf = (name: string, type: 'INT32' | 'BYTE_ARRAY'): SchemaElement[] => [
    { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type, repetition_type: 'OPTIONAL', ...(type === 'BYTE_ARRAY' ? { converted_type: 'UTF8' as const } : {}) },
  ];
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 4 },
    { name: 'query_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ...listOf('url_md5', 'BYTE_ARRAY'),
    ...listOf('position', 'INT32'),
    ...listOf('click', 'INT32'),
  ];
  try {
    const files = {
      csv: file('log.csv', `${csv.join('\n')}\n`),
      yandex: file('yandex.txt', `${yandex.join('\n')}\n`),
      generic: file('generic.csv', `${generic.join('\n')}\n`),
      baidu: file('baidu.parquet', new Uint8Array(parquetWriteBuffer({ schema, columnData: Object.entries(baidu).map(([name, data]) => ({ name, data })) }))),
    };
    const rate = async (read: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await read();
      return sessions / ((performance.now() - started) / 1000);
    };
    const measured: [string, number][] = [
      ['clicklab CSV, readClickLog (baseline)', await rate(() => readClickLog(files.csv))],
      ['Yandex text log', await rate(() => readYandexRelPredLog(files.yandex))],
      [
        'generic CSV, text ids, no session column',
        await rate(() => readGenericClickLog(files.generic, { columns: { session: null, query: 'qid', item: 'url', position: 'rank', click: 'clicked' }, ids: 'text' })),
      ],
      ['Baidu-ULTR Parquet list columns', await rate(() => readBaiduUltrClicks(files.baidu))],
    ];
    const baseline = measured[0][1];
    return measured.map(([name, value]) => ({ group: 'real-log reading (10 results a session)', name, unit: 'sessions/s', value, ratio: value / baseline }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
