/**
 * Training batches from a click log that does not fit in memory: the log arrives as a stream of
 * blocks of whole sessions (an epoch at a time, from the engine: data/engine.ts `shuffledBatches`),
 * and a **shuffle buffer** of B sessions turns that stream into random draws, as tf.data's
 * `shuffle(B)`: fill the buffer with the first B sessions, then for every list of a batch take a
 * session at a uniformly random place in the buffer and put the next session of the stream in its
 * place; when the stream of an epoch ends, the buffer drains, and the next epoch starts a new stream.
 * Memory holds B sessions and one block, whatever the log's length.
 *
 * What this does to the independence of batches. The in-memory path (`clickBatches`) draws every
 * list independently and uniformly, with replacement, among all N sessions. Here an epoch is a
 * sample without replacement, and a draw can only reach the B sessions in the buffer: sessions that
 * are far apart in the stream never meet in one batch, and consecutive batches share the buffer's
 * window (about B / batchSize steps long) and hence its make-up. The stream is made as random as the
 * engine can make it cheaply — every epoch reads the partitions in a seeded random order, and each
 * partition's sessions in a seeded random order (DuckDB sorts them by a hash of (seed, session), the
 * sort it does anyway) — so what remains correlated is the partition: for about (sessions in a
 * partition) / batchSize steps all new sessions come from one partition, mixed only with the B
 * sessions left from before. Partitions cut by query, day or user therefore give batches that are
 * correlated for that long (a B larger than a partition removes it); partitions that are random
 * splits of the log (what `clicklab simulate` writes) give batches as good as independent.
 * The same seed, log and B give the same batches, hence the same model.
 */
import { ConfigError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { ClickLog, RankingData } from '../core/types.js';
import { fillBatch, type PickedList } from './batches.js';
import type { AsyncBatchSource } from './trainer.js';

/** The default shuffle buffer: 100,000 sessions (a few MB for top-10 lists). */
export const DEFAULT_SHUFFLE_BUFFER = 100_000;

/** One session held in the buffer. */
interface BufferedSession {
  readonly query: number;
  readonly documents: Int32Array;
  readonly clicks: Uint8Array;
  readonly treatment?: Float32Array;
}

export interface StreamedBatchOptions {
  /** Sessions the shuffle buffer holds (default DEFAULT_SHUFFLE_BUFFER). */
  readonly bufferSessions?: number;
  /** Draw among all sessions, not only those with a click (see `ClickBatchOptions.allSessions`). */
  readonly allSessions?: boolean;
  /** ρ of each displayed slot of a session (doubly robust), computed as the session enters the buffer. */
  readonly treatment?: (query: number, documents: Int32Array, ranks: Uint16Array) => Float32Array;
  /** r̂ per document row of the ranking data, copied into `slotValues.regression`. */
  readonly regression?: Float32Array;
  /** The longest session of the log (the batches' list length). */
  readonly listLength: number;
  /** What the log is, for errors. */
  readonly source?: string;
}

/**
 * Batches of `batchSize` sessions through a shuffle buffer over `epochs(e)`, the log's blocks of
 * whole sessions in epoch e's order (see the module comment for what the buffer does to independence).
 */
export function streamedClickBatches(data: RankingData, epochs: (epoch: number) => AsyncIterable<ClickLog>, batchSize: number, options: StreamedBatchOptions): AsyncBatchSource {
  const capacity = options.bufferSessions ?? DEFAULT_SHUFFLE_BUFFER;
  if (!(Number.isInteger(capacity) && capacity >= 1)) throw new ConfigError('--shuffle-buffer', `expected an integer ≥ 1 (sessions), found ${capacity}`);
  const source = options.source ?? 'log';
  const numDocuments = data.labels.length;
  const buffer: BufferedSession[] = [];
  let epoch = -1;
  let blocks: AsyncIterator<ClickLog> | null = null;
  let block: ClickLog | null = null;
  let nextSession = 0;

  /** The next usable session of the current epoch's stream, or null at its end. */
  const pull = async (): Promise<BufferedSession | null> => {
    for (;;) {
      if (blocks === null) return null;
      if (block === null || nextSession >= block.sessionQuery.length) {
        const step = await blocks.next();
        if (step.done) {
          blocks = null;
          return null;
        }
        block = step.value;
        nextSession = 0;
        continue;
      }
      const s = nextSession++;
      const from = block.sessionOffsets[s];
      const to = block.sessionOffsets[s + 1];
      let clicked = false;
      for (let r = from; r < to; r++) {
        const d = block.document[r];
        if (!(d >= 0 && d < numDocuments)) throw new ConfigError(source, `item ${d} is not a row of ${data.source} (${numDocuments} documents): was the log made from this split?`);
        if (block.click[r]) clicked = true;
      }
      if (!clicked && !options.allSessions) continue;
      const documents = block.document.slice(from, to);
      const query = block.sessionQuery[s];
      return {
        query,
        documents,
        clicks: block.click.slice(from, to),
        treatment: options.treatment?.(query, documents, block.position.subarray(from, to)),
      };
    }
  };

  /** Starts the next epoch's stream and fills the buffer from it. */
  const startEpoch = async (): Promise<void> => {
    epoch++;
    blocks = epochs(epoch)[Symbol.asyncIterator]();
    block = null;
    while (buffer.length < capacity) {
      const session = await pull();
      if (session === null) break;
      buffer.push(session);
    }
    if (buffer.length === 0) {
      throw new ConfigError(source, options.allSessions ? 'expected at least one session, found none' : 'the click log has no click: nothing to learn from');
    }
  };

  return {
    listLength: options.listLength,
    async next(rng: RandomStream) {
      const lists: PickedList[] = [];
      for (let i = 0; i < batchSize; i++) {
        if (buffer.length === 0) await startEpoch();
        const j = rng.int(buffer.length);
        const session = buffer[j];
        lists.push({ rows: session.documents, label: (slot) => session.clicks[slot], treatment: session.treatment });
        const incoming = await pull();
        if (incoming !== null) {
          buffer[j] = incoming;
        } else {
          buffer[j] = buffer[buffer.length - 1];
          buffer.pop();
        }
      }
      return fillBatch(data, lists, options.regression === undefined ? undefined : { regression: options.regression });
    },
  };
}
