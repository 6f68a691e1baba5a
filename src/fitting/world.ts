import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeFolderAtomic } from '../core/files.js';
import { DataFormatError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { ClickLogTruth } from '../core/types.js';
import type { LoggedClicks } from '../data/click-log-table.js';
import type { ParquetColumn } from '../data/engine-parquet.js';
import { IdVocabulary, writeIdTexts } from '../data/id-vocabulary.js';
import { concatChunks } from '../data/log-concat.js';
import type { FitQuality } from './evaluation.js';
import type { FitReport } from './fit.js';
import type { FittedParameters } from './model.js';
import { FITTED_MODEL_TYPES, fitterOf, type FittedClickModel, type FittedModelType } from './registry.js';
import type { IndexedLog } from './sessions.js';
import { openParquetWorld, PARQUET_WORLD_FORMAT, type ParquetWorldJson } from './parquet-world.js';
import { probabilities, savedParameters, type SimulatedChunk, simulateOnRankings, type WorldRankings } from './world-simulation.js';

export const FITTED_WORLD_FORMAT = 'clicklab/fitted-click-model@1';

/**
 * The text behind the dense query and document ids of a log read with text ids (index = id), or null
 * where the ids are the log's own integers. A saved world writes a pair's text, not its index.
 */
export interface WorldTextIds {
  readonly query: readonly string[] | null;
  readonly document: readonly string[] | null;
}

/** The JSON a fit saves: the model, the logged rankings with their frequencies, and the fit's quality. */
export interface FittedWorldJson {
  readonly format: typeof FITTED_WORLD_FORMAT;
  readonly model: FittedModelType;
  readonly listLength: number;
  readonly source: string;
  /** One entry per (query, document) pair, with its attractiveness (0.5 for pairs seen only in the test sessions); query and document are text for a log with text ids. */
  readonly pairs: { readonly query: number[] | string[]; readonly document: number[] | string[]; readonly attractiveness: number[] };
  /** The model's other parameters (PBM `examination`, DCM `lambda`, DBN `gamma` and per-pair `satisfaction`, UBM `gamma` table, CCM `tau` = [τ1, τ2, τ3]). */
  readonly parameters: FittedParameters;
  /** The distinct logged rankings (as pair indices): ranking i is `pairs[offsets[i] .. offsets[i + 1] − 1]`, logged in `sessions[i]` sessions. */
  readonly rankings: { readonly offsets: number[]; readonly pairs: number[]; readonly sessions: number[] };
  readonly fit?: {
    readonly iterations: number;
    readonly seconds: number;
    readonly trainSessions: number;
    readonly testSessions: number;
    readonly unseenTestSlots: number;
    readonly train: FitQuality;
    readonly test: FitQuality | null;
  };
}

/**
 * A semi-synthetic search world made from a real log: its queries with their logged rankings and
 * how often each was shown, and a fitted click model that clicks on them. `simulate` draws new
 * sessions (a ranking in proportion to its logged frequency, then clicks from the fitted model,
 * through clicklab's click-model simulators).
 */
export class FittedWorld {
  /** The logger's probability of each ranking slot's document at its position, given the query (aligned with rankingPairs). */
  private readonly slotPropensity: Float32Array;

  constructor(
    readonly model: FittedClickModel,
    readonly pairQuery: Int32Array,
    readonly pairDocument: Int32Array,
    readonly rankingOffsets: Int32Array,
    readonly rankingPairs: Int32Array,
    readonly rankingSessions: Float64Array,
    readonly source: string,
    readonly fit?: FittedWorldJson['fit'],
    readonly textIds?: WorldTextIds,
  ) {
    this.slotPropensity = this.loggingPropensities();
  }

  /**
   * pscore of a ranking slot: the share of its query's logged sessions that show the slot's
   * document at the slot's position, Σ_{rankings of q with d at k} n_r / Σ_{rankings of q} n_r.
   */
  private loggingPropensities(): Float32Array {
    const L = this.model.listLength;
    const R = this.rankingSessions.length;
    const queryOf = (r: number) => this.pairQuery[this.rankingPairs[this.rankingOffsets[r]]];
    // Each query's rankings as one block (in ranking order within it), so the per-slot sums live in a
    // map of one query's slots at a time: memory stays small for a world of 10⁷ rankings.
    const order = Int32Array.from({ length: R }, (_, r) => r).sort((x, y) => queryOf(x) - queryOf(y) || x - y);
    const out = new Float32Array(this.rankingPairs.length);
    const perSlot = new Map<number, number>(); // key pair · L + position
    for (let b = 0; b < R; ) {
      const q = queryOf(order[b]);
      let e = b;
      let perQuery = 0;
      perSlot.clear();
      for (; e < R && queryOf(order[e]) === q; e++) {
        const r = order[e];
        const n = this.rankingSessions[r];
        perQuery += n;
        for (let i = this.rankingOffsets[r]; i < this.rankingOffsets[r + 1]; i++) {
          const key = this.rankingPairs[i] * L + (i - this.rankingOffsets[r]);
          perSlot.set(key, (perSlot.get(key) ?? 0) + n);
        }
      }
      for (let j = b; j < e; j++) {
        const r = order[j];
        for (let i = this.rankingOffsets[r]; i < this.rankingOffsets[r + 1]; i++) out[i] = perSlot.get(this.rankingPairs[i] * L + (i - this.rankingOffsets[r]))! / perQuery;
      }
      b = e;
    }
    return out;
  }

  /** The world of a fit: every distinct ranking of the log (training and test sessions) with its frequency. */
  static fromFit(report: FitReport, source: string, textIds?: WorldTextIds): FittedWorld {
    const rankings = distinctRankings(report.log);
    return new FittedWorld(
      report.model,
      report.log.pairQuery,
      report.log.pairDocument,
      rankings.offsets,
      rankings.pairs,
      rankings.sessions,
      source,
      {
        iterations: report.iterations,
        seconds: report.fitSeconds,
        trainSessions: report.train.length,
        testSessions: report.test.length,
        unseenTestSlots: report.unseenTestSlots,
        train: report.trainQuality,
        test: report.testQuality,
      },
      textIds,
    );
  }

  /** Each pair's query and document: its text where the ids are text, else its integer id. */
  pairIds(): { readonly query: number[] | string[]; readonly document: number[] | string[] } {
    const texts = (ids: Int32Array, text: readonly string[] | null | undefined) => (text ? Array.from(ids, (i) => text[i]) : Array.from(ids));
    return { query: texts(this.pairQuery, this.textIds?.query), document: texts(this.pairDocument, this.textIds?.document) };
  }

  toJSON(): FittedWorldJson {
    return {
      format: FITTED_WORLD_FORMAT,
      model: this.model.type,
      listLength: this.model.listLength,
      source: this.source,
      pairs: { ...this.pairIds(), attractiveness: this.model.attractiveness.toArray() },
      parameters: this.model.parameters(),
      rankings: { offsets: Array.from(this.rankingOffsets), pairs: Array.from(this.rankingPairs), sessions: Array.from(this.rankingSessions) },
      ...(this.fit ? { fit: this.fit } : {}),
    };
  }

  /**
   * Saves the world: as one JSON file (`path` ending in .json), or else as a Parquet world, a folder
   * (`saveParquet`) that scales past the JSON's limit of about 10M rankings (V8's longest string).
   */
  async save(path: string): Promise<void> {
    if (!path.toLowerCase().endsWith('.json')) return this.saveParquet(path);
    writeFileAtomic(path, `${JSON.stringify(this.toJSON())}\n`);
  }

  /**
   * The world as a Parquet world's folder (fitting/parquet-world.ts: world.json, pairs.parquet,
   * rankings.parquet, and the text ids), zstd, written by DuckDB. The folder is written under a
   * temporary name beside it and renamed into place (a previous world there is replaced only once
   * the new one is complete).
   */
  async saveParquet(folder: string): Promise<void> {
    const { LogEngine } = await import('../data/engine.js');
    const engine = await LogEngine.open({ threads: 1 });
    try {
      await writeFolderAtomic(folder, async (temporary) => {
        const json = this.toParts();
        const pairColumns = Object.entries(json.pairParameters).map(([name, values]) => ({ name, type: 'DOUBLE' as const, values }));
        const { query, document } = this.pairIds();
        // Text ids as VARCHAR columns (the pair's text), integer ids as INTEGER.
        const idColumn = (name: string, ids: Int32Array, text: number[] | string[]): ParquetColumn =>
          this.textIds?.[name as keyof WorldTextIds] ? { name, type: 'VARCHAR', values: text as string[] } : { name, type: 'INTEGER', values: ids };
        await engine.writeParquetColumns(join(temporary, 'pairs.parquet'), [
          idColumn('query', this.pairQuery, query),
          idColumn('document', this.pairDocument, document),
          { name: 'attractiveness', type: 'DOUBLE', values: this.model.attractiveness.value },
          ...pairColumns,
        ]);
        // rankings.parquet: every slot with what a simulation reads (fitting/parquet-world.ts), ids as the dense indices.
        const slots = this.rankingPairs;
        const rankingOf = new Int32Array(slots.length);
        const sessions = new Float64Array(slots.length);
        for (let r = 0; r < this.rankingSessions.length; r++) {
          rankingOf.fill(r, this.rankingOffsets[r], this.rankingOffsets[r + 1]);
          sessions.fill(this.rankingSessions[r], this.rankingOffsets[r], this.rankingOffsets[r + 1]);
        }
        const perSlot = (values: ArrayLike<number>) => Float64Array.from(slots, (p) => values[p]);
        await engine.writeParquetColumns(join(temporary, 'rankings.parquet'), [
          { name: 'ranking', type: 'INTEGER', values: rankingOf },
          { name: 'query', type: 'INTEGER', values: Int32Array.from(slots, (p) => this.pairQuery[p]) },
          { name: 'document', type: 'INTEGER', values: Int32Array.from(slots, (p) => this.pairDocument[p]) },
          { name: 'sessions', type: 'DOUBLE', values: sessions },
          { name: 'propensity', type: 'FLOAT', values: this.slotPropensity },
          { name: 'attractiveness', type: 'DOUBLE', values: perSlot(this.model.attractiveness.value) },
          ...Object.entries(json.pairParameters).map(([name, values]) => ({ name, type: 'DOUBLE' as const, values: perSlot(values) })),
        ]);
        for (const [role, texts] of [
          ['query', this.textIds?.query],
          ['document', this.textIds?.document],
        ] as const) {
          if (texts) await engine.writeParquetColumns(join(temporary, `${role}-ids.parquet`), [{ name: 'text', type: 'VARCHAR', values: texts }]);
        }
        const { pairParameters, ...meta } = json;
        writeFileAtomic(join(temporary, 'world.json'), `${JSON.stringify({ ...meta, pairParameters: Object.keys(pairParameters) })}\n`);
      });
    } finally {
      engine.close();
    }
  }

  /** The world's metadata for `world.json`, and its per-pair parameters (arrays of one value per pair) apart. */
  private toParts(): Omit<ParquetWorldJson, 'pairParameters'> & { readonly pairParameters: Record<string, Float64Array> } {
    const numPairs = this.pairQuery.length;
    const parameters: Record<string, number | number[] | number[][]> = {};
    const pairParameters: Record<string, Float64Array> = {};
    const perPair = new Set(this.model.pairParameters ?? []);
    for (const [name, value] of Object.entries(this.model.parameters())) {
      if (perPair.has(name) && Array.isArray(value) && value.length === numPairs) pairParameters[name] = Float64Array.from(value as number[]);
      else parameters[name] = value as number | number[] | number[][];
    }
    return {
      format: PARQUET_WORLD_FORMAT,
      model: this.model.type,
      listLength: this.model.listLength,
      source: this.source,
      ...(this.textIds?.query || this.textIds?.document ? { textIds: (['query', 'document'] as const).filter((c) => this.textIds?.[c]) } : {}),
      numPairs,
      numRankings: this.rankingSessions.length,
      parameters,
      pairParameters,
      ...(this.fit ? { fit: this.fit } : {}),
    };
  }

  /** A world saved as JSON by `save`. */
  static async load(path: string): Promise<FittedWorld> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new DataFormatError(path, null, `expected a fitted click model (JSON, "format": "${FITTED_WORLD_FORMAT}"): ${(error as Error).message}`);
    }
    return FittedWorld.fromJSON(json, path);
  }

  /** Rebuild a world from its JSON, checking every field (`file` names it in messages). */
  static fromJSON(json: unknown, file: string): FittedWorld {
    const fail = (problem: string): never => {
      throw new DataFormatError(file, null, problem);
    };
    const o = json as Partial<FittedWorldJson> | null;
    if (typeof o !== 'object' || o === null || o.format !== FITTED_WORLD_FORMAT) fail(`expected "format": "${FITTED_WORLD_FORMAT}", found ${JSON.stringify(o?.format)}`);
    const w = o as FittedWorldJson;
    if (!FITTED_MODEL_TYPES.includes(w.model)) fail(`"model": expected one of ${FITTED_MODEL_TYPES.join(', ')}, found ${JSON.stringify(w.model)}`);
    if (!Number.isInteger(w.listLength) || w.listLength < 1) fail(`"listLength": expected an integer ≥ 1, found ${JSON.stringify(w.listLength)}`);
    const L = w.listLength;
    const [query, queryTexts] = ids(w.pairs?.query, 'pairs.query', fail);
    const [document, documentTexts] = ids(w.pairs?.document, 'pairs.document', fail);
    const attractiveness = probabilities(w.pairs?.attractiveness, 'pairs.attractiveness', fail);
    const numPairs = query.length;
    if (document.length !== numPairs || attractiveness.length !== numPairs)
      fail(`"pairs": query, document and attractiveness must have one entry per pair (${numPairs}), found ${document.length} and ${attractiveness.length}`);
    const offsets = integers(w.rankings?.offsets, 'rankings.offsets', fail);
    const pairs = integers(w.rankings?.pairs, 'rankings.pairs', fail);
    const sessions = Float64Array.from(w.rankings?.sessions ?? [], Number);
    if (offsets.length !== sessions.length + 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== pairs.length || sessions.length === 0) {
      fail(`"rankings": expected offsets (one more than sessions, from 0 to the number of pairs) and a non-empty sessions list`);
    }
    for (let i = 0; i < sessions.length; i++) {
      const n = offsets[i + 1] - offsets[i];
      if (n < 1 || n > L) fail(`"rankings": ranking ${i} has ${n} results; expected 1 to the list length ${L}`);
      if (!(sessions[i] > 0)) fail(`"rankings.sessions[${i}]": expected a positive count, found ${sessions[i]}`);
    }
    for (let i = 0; i < pairs.length; i++) if (pairs[i] < 0 || pairs[i] >= numPairs) fail(`"rankings.pairs[${i}]": expected a pair index below ${numPairs}, found ${pairs[i]}`);
    const saved = savedParameters(w.parameters ?? {}, L, numPairs, fail);
    const model = fitterOf(w.model)!.restore(attractiveness, saved);
    const textIds = queryTexts || documentTexts ? { query: queryTexts, document: documentTexts } : undefined;
    return new FittedWorld(model, query, document, offsets, pairs, sessions, w.source ?? file, w.fit, textIds);
  }

  /** The world as the simulation reads it (fitting/world-simulation.ts): its rankings in batches from memory. */
  rankings(): WorldRankings {
    const perPair = Object.entries(this.model.parameters()).filter(([name]) => this.model.pairParameters?.includes(name));
    const global = Object.fromEntries(Object.entries(this.model.parameters()).filter(([name]) => !this.model.pairParameters?.includes(name)));
    const world = this;
    return {
      model: this.model.type,
      listLength: this.model.listLength,
      parameters: global,
      // Summed in ranking order, as the simulation sums its shares.
      totalSessions: this.rankingSessions.reduce((sum, n) => sum + n, 0),
      file: this.source,
      async *batches() {
        const a = world.model.attractiveness.value;
        for (let first = 0; first < world.rankingSessions.length; first += RANKINGS_PER_BATCH) {
          const last = Math.min(first + RANKINGS_PER_BATCH, world.rankingSessions.length);
          const from = world.rankingOffsets[first];
          const pairs = world.rankingPairs.subarray(from, world.rankingOffsets[last]);
          yield {
            sessions: world.rankingSessions.subarray(first, last),
            query: Int32Array.from({ length: last - first }, (_, r) => world.pairQuery[world.rankingPairs[world.rankingOffsets[first + r]]]),
            offsets: Int32Array.from({ length: last - first + 1 }, (_, r) => world.rankingOffsets[first + r] - from),
            document: Int32Array.from(pairs, (p) => world.pairDocument[p]),
            propensity: world.slotPropensity.subarray(from, world.rankingOffsets[last]),
            attractiveness: Float64Array.from(pairs, (p) => a[p]),
            pairParameters: Object.fromEntries(perPair.map(([name, values]) => [name, Float64Array.from(pairs, (p) => (values as number[])[p])])),
          };
        }
      },
    };
  }

  /**
   * `numSessions` new sessions, in memory (`simulateOnRankings` streams them): each shows a logged
   * ranking drawn in proportion to its logged frequency, and the fitted model clicks (its simulator,
   * from `model.simulator()`). The hidden truth holds the attractiveness as the relevance probability
   * and the simulator's examination; `propensity` (pscore) is the logged probability of the document
   * at its position given the query.
   */
  async simulate(numSessions: number, rng: RandomStream): Promise<LoggedClicks & { readonly propensity: Float32Array; readonly truth: ClickLogTruth }> {
    const chunks: SimulatedChunk[] = [];
    await simulateOnRankings(this.rankings(), numSessions, rng, async (chunk) => void chunks.push(chunk), { truth: true, chunkSessions: Math.max(1, numSessions) });
    const { log, propensity, truth } = concatChunks(chunks);
    return { log, propensity: propensity!, truth: truth! };
  }
}

/** Rankings per batch of an in-memory world's stream. */
const RANKINGS_PER_BATCH = 1 << 16;

/**
 * A saved world opened for simulation (`simulateOnRankings`): a JSON world in memory, a Parquet
 * world's folder streamed through DuckDB (fitting/parquet-world.ts). `close` when done.
 */
export async function openWorld(path: string): Promise<WorldRankings & { readonly source: string; writeIdTexts(out: string): Promise<string[]>; close(): void }> {
  if (isFolder(path)) {
    const world = await openParquetWorld(path);
    return Object.assign(world, { source: world.meta.source });
  }
  const world = await FittedWorld.load(path);
  return { ...world.rankings(), source: world.source, writeIdTexts: async (out) => writeIdTexts(out, world.textIds), close() {} };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The distinct rankings (sequences of pair ids) of a log, in order of first appearance, with their session counts. */
function distinctRankings(log: IndexedLog): { offsets: Int32Array; pairs: Int32Array; sessions: Float64Array } {
  const index = new Map<string, number>();
  const offsets: number[] = [0];
  const pairs: number[] = [];
  const sessions: number[] = [];
  const numSessions = log.offsets.length - 1;
  for (let s = 0; s < numSessions; s++) {
    const ranking = log.pair.subarray(log.offsets[s], log.offsets[s + 1]);
    const key = ranking.join(',');
    const known = index.get(key);
    if (known !== undefined) {
      sessions[known]++;
      continue;
    }
    index.set(key, sessions.length);
    sessions.push(1);
    for (const p of ranking) pairs.push(p);
    offsets.push(pairs.length);
  }
  return { offsets: Int32Array.from(offsets), pairs: Int32Array.from(pairs), sessions: Float64Array.from(sessions) };
}

/** A pair column of integer ids, or of text ids numbered in order of first appearance (with the text of each number). */
function ids(values: unknown, name: string, fail: (problem: string) => never): [Int32Array, string[] | null] {
  if (!Array.isArray(values) || typeof values[0] !== 'string') return [integers(values, name, fail), null];
  const vocabulary = new IdVocabulary();
  const out = Int32Array.from(values as unknown[], (v, i) => (typeof v === 'string' ? vocabulary.encode(v) : fail(`"${name}[${i}]": expected text ids throughout, found ${JSON.stringify(v)}`)));
  return [out, vocabulary.ids];
}

function integers(values: unknown, name: string, fail: (problem: string) => never): Int32Array {
  // A Parquet world's columns come as Int32Array: integers already.
  if (values instanceof Int32Array) return values;
  if (!Array.isArray(values)) fail(`"${name}": expected an array of integers`);
  const out = new Int32Array((values as unknown[]).length);
  (values as unknown[]).forEach((v, i) => {
    if (!Number.isInteger(v)) fail(`"${name}[${i}]": expected an integer, found ${JSON.stringify(v)}`);
    out[i] = v as number;
  });
  return out;
}
