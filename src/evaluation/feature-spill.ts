/**
 * A reward model's feature rows (the sparse index/value slots of `RewardFeatures.write` and the
 * reward) spilled to a temporary file by the first Newton pass over a streamed log, so that the
 * passes after it read a compact binary file instead of parsing the log again (parsing a CSV row of
 * the Open Bandit Dataset costs more than its whole Newton update). On disk, never in memory:
 * 12 m + 1 bytes a row (97 for the Open Bandit features, 2.5 GB at 26M rows), written and read a
 * block (a batch of rows) at a time, and removed by `close`.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FeatureBlock {
  readonly rows: number;
  /** rows × m slots, row-major. */
  readonly index: Int32Array;
  readonly value: Float64Array;
  readonly reward: Uint8Array;
}

export class FeatureSpill {
  private size = 0;

  private constructor(
    private readonly dir: string,
    private readonly handle: FileHandle,
    private readonly nonZeros: number,
  ) {}

  /** A new spill in a fresh folder under `parent` (default: the system's temporary folder, TMPDIR). */
  static async create(nonZeros: number, parent = tmpdir()): Promise<FeatureSpill> {
    const dir = await mkdtemp(join(parent, 'clicklab-reward-model-'));
    const handle = await open(join(dir, 'features.bin'), 'w+');
    return new FeatureSpill(dir, handle, nonZeros);
  }

  /** Appends a block of `rows` rows (a header with the row count, then the index, value and reward arrays). */
  async append(block: FeatureBlock): Promise<void> {
    const m = this.nonZeros;
    const header = new Float64Array([block.rows]);
    for (const part of [header, block.index.subarray(0, block.rows * m), block.value.subarray(0, block.rows * m), block.reward.subarray(0, block.rows)]) {
      const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      await this.handle.write(bytes, 0, bytes.length, this.size);
      this.size += bytes.length;
    }
  }

  /** The blocks in the order appended. */
  async *blocks(): AsyncGenerator<FeatureBlock> {
    const m = this.nonZeros;
    const header = new Float64Array(1);
    for (let at = 0; at < this.size; ) {
      at += await this.readInto(new Uint8Array(header.buffer), at);
      const rows = header[0];
      const block: FeatureBlock = { rows, index: new Int32Array(rows * m), value: new Float64Array(rows * m), reward: new Uint8Array(rows) };
      at += await this.readInto(new Uint8Array(block.index.buffer), at);
      at += await this.readInto(new Uint8Array(block.value.buffer), at);
      at += await this.readInto(block.reward, at);
      yield block;
    }
  }

  private async readInto(bytes: Uint8Array, position: number): Promise<number> {
    for (let done = 0; done < bytes.length; ) {
      const { bytesRead } = await this.handle.read(bytes, done, bytes.length - done, position + done);
      if (bytesRead === 0) throw new RangeError(`feature spill: the file ends at byte ${position + done} of ${this.size}`);
      done += bytesRead;
    }
    return bytes.length;
  }

  async close(): Promise<void> {
    await this.handle.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
