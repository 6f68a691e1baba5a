/**
 * The cascade family (DCM, DBN, SDBN, CCM, CM) fitted from sufficient statistics. Their E-step needs
 * the whole session (the clicks above and below each slot), so a log reduces not to per-slot counts
 * but to its distinct (query, ranking, click pattern) groups, each with the number of sessions it
 * stands for (a GROUP BY in the engine, `LogEngine.sessionGroups`, or `sessionGroupsOfLog` in
 * memory). EM and the evaluation then run on the groups as on sessions, each group's terms
 * multiplied by its weight (`IndexedLog.weight`): the same sums as over the sessions, in another
 * order, so the same parameters and log-likelihood up to rounding (tested to 1e-9). PyClick's
 * conventions are those of `fitClickModel` (start at 0.5, (1 + num) / (2 + den), capped). The groups
 * also give UBM its per-rank perplexity, which needs the documents above each slot
 * (`evaluateOnGroups`).
 */
import { ClickLabError, ConfigError } from '../core/errors.js';
import type { ClickLog } from '../core/types.js';
import { evaluateClickModel, type FitQuality } from './evaluation.js';
import { createFittableModel } from './fit.js';
import { FittedPbm } from './pbm.js';
import type { FittedClickModel, FittedModelType } from './registry.js';
import { indexClickLog, type IndexedLog } from './sessions.js';
import { FittedUbm } from './ubm.js';

/** Distinct sessions and how many times each occurred (what `LogEngine.sessionGroups` returns). */
export interface WeightedSessions {
  readonly log: ClickLog;
  readonly weight: Float64Array;
}

/** Training (and test) groups indexed together: one pair numbering, the test groups after the training ones. */
export interface IndexedGroups {
  readonly log: IndexedLog & { readonly weight: Float64Array };
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/**
 * Indexes training groups and, if given, test groups with one pair numbering (a test pair not in
 * training gets its own id and, never fitted, keeps PyClick's unseen value 0.5).
 */
export function indexGroups(train: WeightedSessions, test?: WeightedSessions, source = 'click log'): IndexedGroups {
  const parts = test === undefined ? [train] : [train, test];
  const log = parts.length === 1 ? train.log : joinLogs(parts.map((p) => p.log));
  const weight = parts.length === 1 ? train.weight : joinFloat(parts.map((p) => p.weight));
  const indexed = indexClickLog(log, source);
  const nTrain = train.log.sessionQuery.length;
  const nAll = log.sessionQuery.length;
  return {
    log: { ...indexed, weight },
    train: Int32Array.from({ length: nTrain }, (_, i) => i),
    test: Int32Array.from({ length: nAll - nTrain }, (_, i) => nTrain + i),
  };
}

function joinLogs(logs: readonly ClickLog[]): ClickLog {
  const rows = logs.reduce((sum, l) => sum + l.document.length, 0);
  const sessions = logs.reduce((sum, l) => sum + l.sessionQuery.length, 0);
  const out = {
    sessionQuery: new Int32Array(sessions),
    sessionOffsets: new Int32Array(sessions + 1),
    document: new Int32Array(rows),
    position: new Uint16Array(rows),
    click: new Uint8Array(rows),
  };
  let s = 0;
  let r = 0;
  for (const l of logs) {
    out.sessionQuery.set(l.sessionQuery, s);
    for (let i = 0; i < l.sessionQuery.length; i++) out.sessionOffsets[s + i] = r + l.sessionOffsets[i];
    out.document.set(l.document, r);
    out.position.set(l.position, r);
    out.click.set(l.click, r);
    s += l.sessionQuery.length;
    r += l.document.length;
  }
  out.sessionOffsets[sessions] = r;
  return out;
}

function joinFloat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface GroupFitOptions {
  readonly model: FittedModelType;
  readonly iterations: number;
  /** Ranks of the model (default the longest group). */
  readonly listLength?: number;
  /** Called after each iteration with its number (1-based). */
  readonly onIteration?: (iteration: number) => void;
}

/** Any registered click model fitted by EM on the training groups (one pass for a closed form such as CM's). */
export function fitOnGroups(groups: IndexedGroups, options: GroupFitOptions): FittedClickModel {
  const L = options.listLength ?? groups.log.longestSession;
  if (groups.log.longestSession > L) throw new ClickLabError(`the log holds lists of ${groups.log.longestSession} results, beyond the model's list length of ${L} ranks`);
  if (!Number.isInteger(options.iterations) || options.iterations < 1) throw new ConfigError('iterations', `expected an integer ≥ 1, found ${options.iterations}`);
  const model = createFittableModel(options.model, groups.log.pairQuery.length, L);
  const rounds = model.closedForm ? 1 : options.iterations;
  for (let it = 1; it <= rounds; it++) {
    model.iterate(groups.log, groups.train);
    options.onIteration?.(it);
  }
  return model;
}

/**
 * The distinct sessions of `sessions` of an indexed log with their counts (the in-memory GROUP BY,
 * for tests and small logs), as a weighted log over the same pair ids.
 */
export function sessionGroupsOfLog(log: IndexedLog, sessions: Int32Array): { readonly log: IndexedLog & { readonly weight: Float64Array }; readonly groups: Int32Array } {
  const index = new Map<string, number>();
  const first: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i];
    const key = `${Array.from(log.pair.subarray(log.offsets[s], log.offsets[s + 1]))}|${Array.from(log.click.subarray(log.offsets[s], log.offsets[s + 1]))}`;
    const g = index.get(key);
    if (g === undefined) {
      index.set(key, first.length);
      first.push(s);
      weight.push(1);
    } else weight[g] += 1;
  }
  // The groups keep the log's offsets and pairs: only a weight per session index is new.
  const w = new Float64Array(log.offsets.length - 1);
  first.forEach((s, g) => {
    w[s] = weight[g];
  });
  return { log: { ...log, weight: w }, groups: Int32Array.from(first) };
}

/**
 * PBM or UBM fitted from slot counts (pairs `pairQuery` / `pairDocument`) scored on session groups by
 * `evaluateClickModel`: log-likelihood and per-rank perplexity with the unconditional click
 * probabilities, which for UBM need the documents above each slot (slot counts do not keep them).
 * Each pair of the groups takes the model's α for its (query, document), 0.5 (PyClick's unseen
 * value) if the model has none.
 */
export function evaluateOnGroups(model: FittedPbm | FittedUbm, pairs: { readonly pairQuery: Int32Array; readonly pairDocument: Int32Array }, groups: IndexedGroups, sessions: Int32Array): FitQuality {
  return evaluateClickModel(onGroupPairs(model, pairs, groups), groups.log, sessions);
}

/** The same PBM or UBM over the groups' pair ids: α looked up by (query, document) (0.5 where the model has none), the rank parameters as fitted. */
export function onGroupPairs(model: FittedPbm | FittedUbm, pairs: { readonly pairQuery: Int32Array; readonly pairDocument: Int32Array }, groups: IndexedGroups): FittedPbm | FittedUbm {
  const lookup = pairLookup(pairs.pairQuery, pairs.pairDocument);
  const a = model.attractiveness.value;
  const attractiveness = new Float64Array(groups.log.pairQuery.length);
  for (let p = 0; p < attractiveness.length; p++) {
    const id = lookup(groups.log.pairQuery[p], groups.log.pairDocument[p]);
    attractiveness[p] = id < 0 ? 0.5 : a[id];
  }
  return model.type === 'pbm' ? FittedPbm.restore(attractiveness, { examination: model.examination.value }) : FittedUbm.restore(attractiveness, { gamma: model.table() });
}

/**
 * The distinct rankings of the training groups with their sessions, for a fitted world: groups come
 * ordered by (query, ranking, click pattern), so one ranking's groups are consecutive and merge by
 * one scan.
 */
export function rankingsOfGroups(groups: IndexedGroups): { readonly offsets: Int32Array; readonly pairs: Int32Array; readonly sessions: Float64Array } {
  const { offsets, pair, weight } = groups.log;
  const starts: number[] = [];
  const sessions: number[] = [];
  let previous = -1;
  for (const g of groups.train) {
    const n = offsets[g + 1] - offsets[g];
    let same = previous >= 0 && offsets[previous + 1] - offsets[previous] === n;
    for (let k = 0; same && k < n; k++) same = pair[offsets[g] + k] === pair[offsets[previous] + k];
    if (same) sessions[sessions.length - 1] += weight[g];
    else {
      starts.push(g);
      sessions.push(weight[g]);
    }
    previous = g;
  }
  const out = new Int32Array(starts.reduce((sum, g) => sum + offsets[g + 1] - offsets[g], 0));
  const rankingOffsets = new Int32Array(starts.length + 1);
  starts.forEach((g, r) => {
    out.set(pair.subarray(offsets[g], offsets[g + 1]), rankingOffsets[r]);
    rankingOffsets[r + 1] = rankingOffsets[r] + offsets[g + 1] - offsets[g];
  });
  return { offsets: rankingOffsets, pairs: out, sessions: Float64Array.from(sessions) };
}

/** The id of (q, d) among the pairs (−1 if absent), by binary search over the pairs sorted by (query, document). */
function pairLookup(pairQuery: Int32Array, pairDocument: Int32Array): (q: number, d: number) => number {
  const order = Int32Array.from({ length: pairQuery.length }, (_, i) => i);
  order.sort((x, y) => pairQuery[x] - pairQuery[y] || pairDocument[x] - pairDocument[y]);
  const sq = Int32Array.from(order, (i) => pairQuery[i]);
  const sd = Int32Array.from(order, (i) => pairDocument[i]);
  return (q, d) => {
    let lo = 0;
    let hi = sq.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sq[mid] < q || (sq[mid] === q && sd[mid] < d)) lo = mid + 1;
      else hi = mid;
    }
    return lo < sq.length && sq[lo] === q && sd[lo] === d ? order[lo] : -1;
  };
}
