import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { writeClickLog } from '../data/index.js';
import { formatBanditTable, runBanditStudy } from '../studies/bandit/run.js';
import type { ClickModelSpec } from '../simulation/click-models/index.js';
import { parseSpec, positiveIntegers } from './checks.js';

interface BanditArgs {
  policies: string[];
  clickModel: string;
  items: number;
  slate: number;
  rounds: number;
  batch: number;
  seeds: number[];
  low: number;
  high: number;
  users: number;
  dimension: number;
  bias: number;
  propensityDraws: number;
  curvePoints: number;
  out: string;
  writeLogs: boolean;
  quiet: boolean;
}

export const banditCommand = {
  command: 'bandit',
  describe: 'Run slate bandit policies against a simulated click model over seeds: regret, clicks and CTR over time; optionally write their click logs with propensities',
  builder: (yargs: Argv) =>
    yargs
      .option('policies', { type: 'string', array: true, default: ['bernoulli-ts', 'pbm-ts', 'in-slate-ts', 'epsilon-greedy', 'random'], describe: 'policy types, or JSON specs {"type", ...params, "label"}' })
      .option('click-model', { type: 'string', default: '{"type": "pbm", "eta": 2}', describe: 'a click model name or JSON spec (as for simulate)' })
      .option('items', { type: 'number', default: 100 })
      .option('slate', { type: 'number', default: 10, describe: 'slate size K' })
      .option('rounds', { type: 'number', default: 20_000 })
      .option('batch', { type: 'number', default: 1, describe: 'posterior updates every N rounds (delayed feedback)' })
      .option('seeds', { type: 'number', array: true, default: [1, 2, 3] })
      .option('low', { type: 'number', default: 0.01, describe: 'item attractiveness drawn uniformly from [low, high]' })
      .option('high', { type: 'number', default: 0.3 })
      .option('users', { type: 'number', default: 1, describe: 'more than 1: a contextual world, user × item attractiveness σ(bias + u·v) from d-dimensional features' })
      .option('dimension', { type: 'number', default: 4, describe: 'feature dimension d of a contextual world (linear TS uses d² features)' })
      .option('bias', { type: 'number', default: -2, describe: 'logit offset of a contextual world (σ(−2) ≈ 0.12)' })
      .option('propensity-draws', { type: 'number', default: 0, describe: 'Monte Carlo draws per batch for logged propensities (0: none; exact for policies with a closed form)' })
      .option('curve-points', { type: 'number', default: 50 })
      .option('out', { type: 'string', default: path.join('runs', 'bandit'), describe: 'folder for results.json (curves) and, with --write-logs, the click logs' })
      .option('write-logs', { type: 'boolean', default: false, describe: 'write each policy × seed click log (Parquet, with pscore when --propensity-draws > 0)' })
      .option('quiet', { type: 'boolean', default: false })
      .check((argv) => positiveIntegers(argv, ['items', 'slate', 'rounds', 'batch', 'curvePoints', 'users', 'dimension'])) as unknown as Argv<BanditArgs>,
  handler: async (args: ArgumentsCamelCase<BanditArgs>) => {
    const progress = stderrProgress({ quiet: args.quiet });
    const spec = {
      numItems: args.items,
      slateSize: args.slate,
      attractiveness: { low: args.low, high: args.high },
      contextual: args.users > 1 ? { users: args.users, dimension: args.dimension, bias: args.bias } : undefined,
      clickModel: parseSpec(args.clickModel, '--click-model') as unknown as ClickModelSpec,
      policies: args.policies.map((p) => parseSpec(p, '--policies')),
      rounds: args.rounds,
      batchSize: args.batch,
      seeds: args.seeds,
      propensityDraws: args.propensityDraws,
      curvePoints: args.curvePoints,
    };
    if (!(args.low >= 0 && args.low <= args.high && args.high <= 1)) throw new ConfigError('--low/--high', `expected 0 ≤ low ≤ high ≤ 1, found ${args.low} and ${args.high}`);
    mkdirSync(args.out, { recursive: true });
    const runs = spec.seeds.length * spec.policies.length;
    let done = 0;
    const writes: Promise<void>[] = [];
    progress.start('bandit runs', runs);
    const result = runBanditStudy(spec, ({ policy, seed, result }) => {
      progress.update(++done, `${policy} seed ${seed}`);
      if (args.writeLogs) {
        writes.push(writeClickLog(path.join(args.out, `log-${policy}-seed${seed}.parquet`), { log: result.log, propensity: result.propensity }));
      }
    });
    await Promise.all(writes);
    progress.finish();
    writeFileSync(path.join(args.out, 'results.json'), `${JSON.stringify({ spec, curves: result.curves, table: result.table, wallSeconds: result.wallSeconds }, null, 2)}\n`);
    process.stdout.write(`${formatBanditTable(result)}\n\nwall time ${result.wallSeconds.toFixed(1)} s; results.json${args.writeLogs ? ' and the click logs' : ''} in ${args.out}\n`);
  },
};
