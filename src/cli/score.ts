import { writeFileAtomic } from '../core/files.js';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { readLetorFileSync } from '../data/letor.js';
import { dropQueriesWithoutRelevant } from '../data/normalize.js';
import { parseMetric, perQueryMetric } from '../evaluation/metrics.js';
import { mean } from '../evaluation/statistics.js';
import { initBackend, type BackendChoice } from '../learning/backend.js';
import { applyNormalization, loadModel } from '../learning/model-io.js';
import { guardOutput } from './checks.js';
import { backendOption, text, texts, withOptions } from './options.js';

interface ScoreArgs {
  model: string;
  letor: string;
  out?: string;
  metrics: string[];
  backend: BackendChoice;
}

export const scoreCommand = {
  command: 'score <model> <letor>',
  describe: 'Score a LETOR file with a saved model (one score per line, in file order), and report metrics when the file has relevant labels',
  builder: (yargs: Argv) =>
    withOptions(
      yargs
        .positional('model', { type: 'string', demandOption: true, describe: 'model folder written by clicklab train' })
        .positional('letor', { type: 'string', demandOption: true, describe: 'LETOR/SVMlight file (plain or .gz)' }),
      {
        out: text(undefined, 'write the scores here (then metrics go to stdout); default: scores to stdout, metrics to stderr'),
        metrics: texts(['ndcg@1', 'ndcg@3', 'ndcg@5', 'ndcg@10', 'err@10']),
        backend: backendOption(),
      },
    ) as unknown as Argv<ScoreArgs>,
  handler: async (args: ArgumentsCamelCase<ScoreArgs>) => {
    if (args.out !== undefined)
      guardOutput(args.out, {
        kind: 'file',
        inputs: [
          ['<model>', args.model],
          ['<letor>', args.letor],
        ],
      });
    const metrics = args.metrics.map((m) => parseMetric(m, '--metrics'));
    await initBackend(args.backend);
    const { model, description } = loadModel(args.model);
    const data = applyNormalization(readLetorFileSync(args.letor, { numFeatures: description.numFeatures }), description.normalization);
    const scores = model.scoreArray(data.features);
    const judged = dropQueriesWithoutRelevant(data);
    const judgedScores = model.scoreArray(judged.features);
    model.dispose();
    const text = `${Array.from(scores, (s) => String(s)).join('\n')}\n`;
    if (args.out) writeFileAtomic(args.out, text);
    else process.stdout.write(text);
    const report = args.out ? (s: string) => process.stdout.write(s) : (s: string) => process.stderr.write(s);
    if (judged.queryOffsets.length === 1) {
      report(`${data.labels.length} documents scored; no query has a relevant label, so no metric\n`);
      return;
    }
    const maxGrade = Math.max(description.maxGrade, ...judged.labels);
    const values = metrics.map((m) => `${m.name} ${mean(Array.from(perQueryMetric(judged, judgedScores, m, maxGrade))).toFixed(4)}`);
    report(`${data.labels.length} documents scored; over the ${judged.queryOffsets.length - 1} queries with a relevant document: ${values.join(', ')}\n`);
  },
};
