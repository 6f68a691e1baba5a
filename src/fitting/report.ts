import { alignColumns } from '../core/text-table.js';
import type { FitReport } from './fit.js';

/** The fit quality table `clicklab fit` prints: log-likelihood and perplexity (overall and per rank) on the training and test sessions. */
export function formatFitReport(report: FitReport, source: string): string {
  const { trainQuality: train, testQuality: test } = report;
  const columns = (f: (q: NonNullable<FitReport['testQuality']>) => string) => [f(train), ...(test ? [f(test)] : [])];
  const ranks = Math.max(train.perplexityAtRank.length, test?.perplexityAtRank.length ?? 0);
  const rows = [
    ['measure', 'train', ...(test ? ['test'] : [])],
    ['log-likelihood', ...columns((q) => q.logLikelihood.toFixed(4))],
    ['perplexity', ...columns((q) => q.perplexity.toFixed(4))],
    ...Array.from({ length: ranks }, (_, k) => [`perplexity @${k + 1}`, ...columns((q) => (k < q.perplexityAtRank.length ? q.perplexityAtRank[k].toFixed(4) : '-'))]),
  ];
  const what = report.model.closedForm ? 'closed-form maximum likelihood' : `${report.iterations} EM iterations`;
  return [
    `${report.model.type} fitted to ${source}: ${report.train.length} training sessions, ${report.test.length} test sessions, ${report.log.pairQuery.length} (query, document) pairs; ${what} in ${report.fitSeconds.toFixed(2)} s`,
    '',
    alignColumns(rows),
    ...(test ? ['', `test slots whose pair is not in the training sessions (α = 0.5): ${report.unseenTestSlots}`] : []),
  ].join('\n');
}
