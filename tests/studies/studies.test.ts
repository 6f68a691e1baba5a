import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClickLabError, ConfigError } from '../../src/core/errors.js';
import { runEstimatorComparison } from '../../src/studies/ope/estimator-comparison.js';
import { parseExperiment } from '../../src/runner/experiment.js';
import { writeExperimentReport } from '../../src/runner/experiment-report.js';
import { runOpenBanditProtocol } from '../../src/studies/ope/open-bandit-protocol.js';
import { runRecommenderComparison } from '../../src/studies/recommender/comparison.js';
import { runExperiment } from '../../src/runner/run-experiment.js';

type Row = Record<string, string | number | null>;
const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), `clicklab-study-${prefix}-`));
const v2 = { schema: 'clicklab/scenario@2', name: 't' };

/** Runs a scenario through the runner and the reports; returns the tidy rows and the output folder. */
async function run(raw: object): Promise<{ rows: Row[]; dir: string }> {
  const experiment = parseExperiment(raw, 'test.json');
  const dir = tmp(experiment.study);
  const state = await runExperiment(experiment, { outDir: dir, backend: 'wasm' });
  expect(state.complete).toBe(true);
  await writeExperimentReport(experiment, state.cells!, dir);
  return { rows: JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Row[], dir };
}

const value = (rows: Row[], where: Row) => {
  const hits = rows.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));
  expect(hits, JSON.stringify(where)).toHaveLength(1);
  return hits[0].value as number;
};
const meanOf = (rows: Row[], where: Row) => {
  const hits = rows.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));
  return hits.reduce((s, r) => s + (r.value as number), 0) / hits.length;
};

function error(raw: object): string {
  try {
    parseExperiment({ ...v2, ...raw }, 'x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ClickLabError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('study kind "ope": off-policy estimators on simulated slates', () => {
  const ope = { ...v2, study: 'ope', sampleSizes: [100, 1000], replicates: 20, seeds: [1, 2] };

  it("reports each estimator's relative RMSE and bias per log size, as runEstimatorComparison does for the seed's world", async () => {
    const { rows, dir } = await run(ope);
    // 16 estimators under the PBM × 2 sizes × 2 metrics × 2 seeds.
    expect(rows).toHaveLength(16 * 2 * 2 * 2);
    expect(Object.keys(rows[0])).toEqual(['cell', 'method', 'metric', 'seed', 'value']);
    const direct = runEstimatorComparison({ worldSeed: 2, sampleSizes: [100, 1000], seeds: 20 });
    for (const r of direct.rows) {
      expect(value(rows, { method: r.estimator, metric: `rel-rmse@${r.slates}`, seed: 2 })).toBe(r.relativeRmse);
      expect(value(rows, { method: r.estimator, metric: `rel-bias@${r.slates}`, seed: 2 })).toBe(r.bias / r.truth);
    }
    // IPW is unbiased: ten times the data cuts its RMSE by about √10 (between 2 and 5 with 20 logs per size).
    const ratio = meanOf(rows, { method: 'ipw', metric: 'rel-rmse@100' }) / meanOf(rows, { method: 'ipw', metric: 'rel-rmse@1000' });
    expect(ratio).toBeGreaterThan(2);
    expect(ratio).toBeLessThan(5);
    // The exact reward model beats the fitted one, whose misspecification bias does not shrink.
    expect(meanOf(rows, { method: 'dm (true q)', metric: 'rel-rmse@1000' })).toBeLessThan(meanOf(rows, { method: 'dm', metric: 'rel-rmse@1000' }));
    expect(readdirSync(path.join(dir, 'charts')).sort()).toEqual(['ope-bias-vs-n.svg', 'ope-rmse-vs-n.svg', 'rel-rmse_1000-by-method.svg']);
  });

  it('gives the same tables byte for byte with 1 and 2 worker threads (compiled CLI)', () => {
    const dir = tmp('ope-workers');
    const file = path.join(dir, 'ope.json');
    writeFileSync(file, JSON.stringify({ ...ope, sampleSizes: [50, 200], replicates: 4, grid: { 'world.clickModel': ['pbm', 'cascade'] } }));
    const cli = path.resolve('dist/cli/main.js');
    const files = (workers: number) => {
      const out = path.join(dir, `w${workers}`);
      execFileSync(process.execPath, [cli, 'run', file, '--workers', String(workers), '--out', out, '--quiet'], { stdio: 'pipe' });
      return ['results.csv', 'summary.json'].map((f) => readFileSync(path.join(out, f), 'utf8'));
    };
    const one = files(1);
    expect(files(2)).toEqual(one);
    // The cascade world has no true-q estimators: 14 estimators there, 16 under the PBM.
    expect(one[0].split('\n').filter((line) => line.startsWith('c2,') && line.includes(',rel-rmse@50,1,'))).toHaveLength(14);
  });

  it('names the field, what was expected and what was found in a broken file', () => {
    expect(error({ study: 'ope', sampleSize: [10] })).toMatch(/x\.json\.sampleSize: unknown field \(did you mean "sampleSizes"\?\)/);
    expect(error({ study: 'ope', sampleSizes: [100, 50] })).toMatch(/x\.json: .*sampleSizes\[1\]: expected sizes in increasing order, found 50 after 100/);
    expect(error({ study: 'ope', sampleSizes: [0] })).toMatch(/sampleSizes\[0\]: expected an integer ≥ 1, found 0/);
    expect(error({ study: 'ope', estimators: ['ipw', 'snipws'] })).toMatch(/estimators\[1\]: expected one of .*found "snipws" \(did you mean "snipw"\?\)/);
    expect(error({ study: 'ope', world: { clickModel: 'cascde' } })).toMatch(/world\.clickModel: expected one of "pbm", "cascade", found "cascde" \(did you mean "cascade"\?\)/);
    expect(error({ study: 'ope', world: { item: 8 } })).toMatch(/world\.item: unknown field \(did you mean "items"\?\)/);
    expect(error({ study: 'ope', world: { items: 30, slateSize: 5 } })).toMatch(/world\.items: expected a world small enough to enumerate/);
    expect(error({ study: 'ope', world: { items: 4, slateSize: 5 } })).toMatch(/world\.slateSize: expected an integer ≥ 1 and ≤ 4, found 5/);
    expect(error({ study: 'ope', replicates: 1 })).toMatch(/replicates: expected an integer ≥ 2, found 1/);
    expect(error({ study: 'ope', estimators: ['dm (true q)'], grid: { 'world.clickModel': ['cascade'] } })).toMatch(/world\.clickModel.*estimators\[0\]: expected one of/);
  });
});

describe('study kind "open-bandit": the Open Bandit protocol on the shipped sample', () => {
  it('scores every estimator by its relative error against the on-policy CTR, as runOpenBanditProtocol does', async () => {
    const { rows, dir } = await run({ ...v2, study: 'open-bandit', draws: 5000, resamples: 50, seeds: [3] });
    expect(rows).toHaveLength(8 * 2);
    const direct = await runOpenBanditProtocol({ campaign: 'men', draws: 5000, resamples: 50, seed: 3 });
    for (const r of direct.table) {
      expect(value(rows, { method: r.estimator, metric: 'estimate' })).toBe(r.estimate);
      const estimate = value(rows, { method: r.estimator, metric: 'relative-error' });
      expect(estimate).toBeCloseTo(Math.abs(r.estimate - direct.groundTruth) / direct.groundTruth, 12);
    }
    expect(readdirSync(path.join(dir, 'charts')).sort()).toEqual(['obd-estimates.svg', 'relative-error-by-method.svg']);
  });

  it('names the field, what was expected and what was found in a broken file', () => {
    expect(error({ study: 'open-bandit', campaign: 'man' })).toMatch(/campaign: expected one of "men", "women", found "man" \(did you mean "men"\?\)/);
    expect(error({ study: 'open-bandit', evaluate: 'ts' })).toMatch(/evaluate: expected one of "bts", "random", found "ts"/);
    expect(error({ study: 'open-bandit', resample: 10 })).toMatch(/x\.json\.resample: unknown field \(did you mean "resamples"\?\)/);
    expect(error({ study: 'open-bandit', level: 1.5 })).toMatch(/level: expected a number > 0 and ≤ 1, found 1\.5/);
  });
});

describe('study kind "fitting": a click-model comparison on simulated logs', () => {
  const fitting = { ...v2, study: 'fitting', world: { queries: 40, listLength: 5 }, sessions: 6000, iterations: 20, seeds: [1, 2], grid: { 'clickModel.type': ['dbn', 'ubm'] } };

  it('fits every model to a log of the true model and scores held-out fit and attractiveness error', async () => {
    const { rows, dir } = await run(fitting);
    expect(rows).toHaveLength(2 * 7 * 3 * 2);
    expect(Object.keys(rows[0])).toEqual(['cell', 'clickModel.type', 'method', 'metric', 'seed', 'value']);
    for (const truth of ['dbn', 'ubm']) {
      const m = (method: string, metric: string) => meanOf(rows, { 'clickModel.type': truth, method, metric });
      // The cascade model gives clicks below the first zero probability: by far the worst likelihood.
      for (const other of ['pbm', 'dcm', 'dbn', 'ubm', 'ccm']) expect(m('cm', 'log-likelihood')).toBeLessThan(m(other, 'log-likelihood'));
      // The true model's family recovers the attractiveness better than the position-only PBM would under a cascade, and fits better than CM.
      expect(m(truth, 'alpha-rmse')).toBeLessThan(m('cm', 'alpha-rmse'));
      expect(m(truth, 'perplexity')).toBeLessThan(m('cm', 'perplexity'));
    }
    // The chart data: the true model's perplexity per rank is the floor of every fitted model's (mean over ranks and seeds).
    const seed = JSON.parse(readFileSync(path.join(dir, 'cells', 'c2', 'seed-1.json'), 'utf8')) as {
      values: Row[];
      extras: { perplexityAtRank: Record<string, number[]>; truePerplexityAtRank: number[] };
    };
    const avg = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    expect(seed.extras.truePerplexityAtRank).toHaveLength(5);
    for (const [model, perRank] of Object.entries(seed.extras.perplexityAtRank)) {
      expect(avg(perRank)).toBeCloseTo(value(rows, { cell: 'c2', method: model, metric: 'perplexity', seed: 1 }), 12);
      expect(avg(seed.extras.truePerplexityAtRank)).toBeLessThan(avg(perRank) + 0.002);
    }
    expect(readdirSync(path.join(dir, 'charts')).sort()).toEqual(['excess-perplexity-per-rank.svg', 'perplexity-per-rank.svg', 'perplexity-vs-clickModel.type.svg']);
  });

  it('names the field, what was expected and what was found in a broken file', () => {
    expect(error({ study: 'fitting', models: ['pbm', 'ccn'] })).toMatch(/models\[1\]: expected one of "pbm", .*found "ccn" \(did you mean "ccm"\?\)/);
    expect(error({ study: 'fitting', models: ['pbm', 'pbm'] })).toMatch(/models\[1\]: "pbm" is listed twice/);
    expect(error({ study: 'fitting', clickModel: { type: 'ubm', gamma: [[2]] } })).toMatch(/clickModel\.gamma\[0\]\[0\]: expected a probability in \[0, 1\], found 2/);
    expect(error({ study: 'fitting', clickModel: { type: 'dbnn' } })).toMatch(/clickModel\.type: expected one of pbm, cascade/);
    expect(error({ study: 'fitting', world: { queries: 0 } })).toMatch(/world\.queries: expected an integer ≥ 1, found 0/);
    expect(error({ study: 'fitting', world: { lists: 3 } })).toMatch(/world\.lists: unknown field; expected one of queries, listLength, attractiveness/);
    expect(error({ study: 'fitting', intervention: 'shufle' })).toMatch(/intervention: expected one of "none", "shuffle", found "shufle" \(did you mean "shuffle"\?\)/);
    expect(error({ study: 'fitting', testFraction: 0 })).toMatch(/testFraction: expected a number > 0 and ≤ 0\.9, found 0/);
  });
});

describe('study kind "recommender": MF and Rel-MF on exposure-biased clicks', () => {
  const world = { users: 300, items: 150, exposure: { expectedExposures: 30 } };
  const recommender = { ...v2, study: 'recommender', data: { kind: 'world', world }, learners: ['mf', { type: 'relmf', clip: 0.05 }], training: { maxSteps: 40, evalEvery: 20 }, ks: [3], seeds: [4] };

  it('trains each learner and scores it on all and rare items, as runRecommenderComparison does', async () => {
    const { rows, dir } = await run(recommender);
    const metrics = ['DCG@3', 'Recall@3', 'MAP@3', 'expected-DCG@3', 'DCG@3-rare', 'Recall@3-rare', 'MAP@3-rare', 'expected-DCG@3-rare'];
    expect(rows).toHaveLength(2 * metrics.length);
    expect([...new Set(rows.map((r) => r.method))]).toEqual(['MF', 'Rel-MF M=0.05']);
    expect([...new Set(rows.map((r) => r.metric))]).toEqual(metrics);
    const direct = await runRecommenderComparison({
      data: { kind: 'world', spec: world },
      learners: [
        { name: 'MF', learner: 'mf', propensity: 'estimated', clip: 0 },
        { name: 'Rel-MF M=0.05', learner: 'relmf', propensity: 'estimated', clip: 0.05 },
      ],
      seeds: [4],
      settings: { dimension: 30, learningRate: 0.005, l2: 1e-4, batchSize: 4096, maxSteps: 40, evalEvery: 20, patience: 6 },
      ks: [3],
    });
    expect(direct).toHaveLength(rows.length);
    for (const r of direct) {
      const name = `${r.metric === 'DCG (expected)' ? 'expected-DCG' : r.metric}@${r.k}${r.items === 'rare' ? '-rare' : ''}`;
      expect(value(rows, { method: r.learner, metric: name })).toBeCloseTo(r.value, 6);
      expect(Number.isFinite(r.value)).toBe(true);
    }
    expect(readdirSync(path.join(dir, 'charts')).sort()).toEqual(['DCG_3-by-method.svg', 'metrics-all-vs-rare.svg']);
  });

  it('names the field, what was expected and what was found in a broken file', () => {
    expect(error({ study: 'recommender', learners: ['relmff'] })).toMatch(
      /learners\[0\]\.type: expected one of "mf", "wmf", "relmf", "nbpo", "nbpoo", "bpo", found "relmff" \(did you mean "relmf"\?\)/,
    );
    expect(error({ study: 'recommender', learners: [{ type: 'mf', clip: 0.1 }] })).toMatch(/learners\[0\]\.clip: unknown field; expected one of type, label/);
    expect(error({ study: 'recommender', learners: [{ type: 'relmf', clip: 2 }] })).toMatch(/learners\[0\]\.clip: expected a number ≥ 0 and ≤ 1, found 2/);
    expect(error({ study: 'recommender', learners: [{ type: 'relmf', propensity: 'true' }] })).toMatch(/propensity: expected one of "given", "estimated", found "true"/);
    expect(error({ study: 'recommender', learners: [{ type: 'nbpo', clip: 0.1 }] })).toMatch(/learners\[0\]\.clip: unknown field; expected one of type, label, dimension, flipDimension/);
    expect(error({ study: 'recommender', learners: [{ type: 'nbpoo', decay: 1.5 }] })).toMatch(/learners\[0\]\.decay: expected a number > 0 and ≤ 1, found 1\.5/);
    expect(error({ study: 'recommender', learners: ['mf', 'mf'] })).toMatch(/learners\[1\]\.label: "MF" is used twice/);
    expect(error({ study: 'recommender', data: { kind: 'yahoo' } })).toMatch(/data\.kind: expected one of "world", "coat", found "yahoo"/);
    expect(error({ study: 'recommender', data: { kind: 'world', world: { user: 10 } } })).toMatch(/data\.world\.user: .*users/);
    expect(error({ study: 'recommender', training: { maxStep: 10 } })).toMatch(/training\.maxStep: unknown field \(did you mean "maxSteps"\?\)/);
    expect(error({ study: 'recommender', ks: [0] })).toMatch(/ks\[0\]: expected an integer ≥ 1, found 0/);
  });
});

describe('shipped study scenarios', () => {
  it('parse', () => {
    for (const file of ['relmf-coat', 'relmf-world', 'open-bandit-men', 'ope-estimators', 'click-model-fit']) {
      expect(() => parseExperiment(JSON.parse(readFileSync(`sim/${file}.json`, 'utf8')), file)).not.toThrow(ConfigError);
    }
  });
});
