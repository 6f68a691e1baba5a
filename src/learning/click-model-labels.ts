import { ClickLabError } from '../core/errors.js';
import type { ClickLog } from '../core/types.js';
import { DEFAULT_EM_ITERATIONS, fitClickModel } from '../fitting/fit.js';
import type { FittedModelType } from '../fitting/registry.js';

/** Soft relevance labels that a click model fitted to a click log estimates, as lists to train on. */
export interface ClickModelLabels {
  /** Per document row of the ranking data: the fitted attractiveness α_{q,d}; 0 for a document never displayed. */
  readonly labels: Float32Array;
  /** One list per query of the log: the document rows displayed for it in any session, in row order. */
  readonly lists: Int32Array[];
  /** Documents with a label (displayed at least once). */
  readonly labelled: number;
}

/**
 * The click-model baseline of Ai et al. (SIGIR 2018, after Chapelle & Zhang 2009 and Chuklin et al.
 * 2015): fit `model` by EM to every session of `log` (nothing held out), and read each displayed
 * (query, document) pair's attractiveness α_{q,d} = P(click | examined) as its estimated relevance.
 * The fit's dense pair ids map back through `pairQuery`/`pairDocument`, which hold the log's own
 * query index and document row. Documents never displayed are left out of the lists: the fit has no
 * data on them and would give them PyClick's prior 0.5, above most displayed documents' estimates, so
 * training on it would push never-shown candidates to the top.
 */
export function clickModelLabels(log: ClickLog, numDocuments: number, options: { readonly model: FittedModelType; readonly iterations?: number }): ClickModelLabels {
  const fit = fitClickModel(log, { model: options.model, iterations: options.iterations ?? DEFAULT_EM_ITERATIONS, testFraction: 0, source: 'training click log' });
  const { pairQuery, pairDocument } = fit.log;
  const alpha = fit.model.attractiveness.value;
  const labels = new Float32Array(numDocuments);
  const queryOfRow = new Int32Array(numDocuments).fill(-1);
  const rowsOfQuery = new Map<number, number[]>();
  for (let p = 0; p < pairQuery.length; p++) {
    const row = pairDocument[p];
    if (row < 0 || row >= numDocuments) throw new ClickLabError(`training click log: document ${row} is not a row of the ranking data (${numDocuments} documents)`);
    // A document row belongs to one query; a log showing it under two would make its label ambiguous.
    if (queryOfRow[row] >= 0) throw new ClickLabError(`training click log: document row ${row} is displayed for queries ${queryOfRow[row]} and ${pairQuery[p]}`);
    queryOfRow[row] = pairQuery[p];
    labels[row] = alpha[p];
    let rows = rowsOfQuery.get(pairQuery[p]);
    if (!rows) rowsOfQuery.set(pairQuery[p], (rows = []));
    rows.push(row);
  }
  const queries = [...rowsOfQuery.keys()].sort((a, b) => a - b);
  const lists = queries.map((q) => Int32Array.from(rowsOfQuery.get(q)!).sort());
  return { labels, lists, labelled: pairQuery.length };
}
