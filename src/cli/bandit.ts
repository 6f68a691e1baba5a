import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../core/files.js';
import path from 'node:path';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../core/errors.js';
import { stderrProgress } from '../core/progress.js';
import { writeClickLog } from '../data/index.js';
import { checkBanditStudySpec, formatBanditTable, runBanditStudy } from '../studies/bandit/run.js';
import type { ClickModelSpec } from '../simulation/click-models/index.js';
import { guardOutput, namingFlags, parseSpec } from './checks.js';
import { count, flag, num, numbers, quietOption, text, texts, withOptions } from './options.js';

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

/** The study's fields as the flags that set them, for its error messages. */
const BANDIT_FLAGS = {
  numItems: '--items',
  slateSize: '--slate',
  attractiveness: '--low/--high',
  contextual: '--users/--dimension/--bias',
  clickModel: '--click-model',
  policies: '--policies',
  rounds: '--rounds',
  batchSize: '--batch',
  seeds: '--seeds',
  propensityDraws: '--propensity-draws',
  curvePoints: '--curve-points',
};

export const banditCommand = {
  command: 'bandit',
  describe: 'Run slate bandit policies against a simulated click model over seeds: regret, clicks and CTR over time; optionally write their click logs with propensities',
  builder: (yargs: Argv) =>
    withOptions(yargs, {
      policies: texts(['bernoulli-ts', 'pbm-ts', 'in-slate-ts', 'epsilon-greedy', 'random'], 'policy types, or JSON specs {"type", ...params, "label"}'),
      'click-model': text('{"type": "pbm", "eta": 2}', 'a click model name or JSON spec (as for simulate)'),
      items: count(100),
      slate: count(10, 'slate size K'),
      rounds: count(20_000),
      batch: count(1, 'posterior updates every N rounds (delayed feedback)'),
      seeds: numbers([1, 2, 3]),
      low: num(0.01, 'item attractiveness drawn uniformly from [low, high]'),
      high: num(0.3),
      users: count(1, 'more than 1: a contextual world, user × item attractiveness σ(bias + u·v) from d-dimensional features'),
      dimension: count(4, 'feature dimension d of a contextual world (linear TS uses d² features)'),
      bias: num(-2, 'logit offset of a contextual world (σ(−2) ≈ 0.12)'),
      'propensity-draws': num(0, 'Monte Carlo draws per batch for logged propensities (0: none; exact for policies with a closed form)'),
      'curve-points': count(50),
      out: text(path.join('runs', 'bandit'), 'folder for results.json (curves) and, with --write-logs, the click logs'),
      'write-logs': flag('write each policy × seed click log (Parquet, with pscore when --propensity-draws > 0)'),
      quiet: quietOption(),
    }) as unknown as Argv<BanditArgs>,
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
    const twice = args.seeds.findIndex((seed, i) => args.seeds.indexOf(seed) !== i);
    if (twice >= 0) throw new ConfigError('--seeds', `the seed ${args.seeds[twice]} is listed twice (each seed is one replicate)`);
    if (!(args.low >= 0 && args.low <= args.high && args.high <= 1)) throw new ConfigError('--low/--high', `expected 0 ≤ low ≤ high ≤ 1, found ${args.low} and ${args.high}`);
    await namingFlags(BANDIT_FLAGS, () => checkBanditStudySpec(spec));
    guardOutput(args.out, { kind: 'folder', writes: ['results.json'] });
    mkdirSync(args.out, { recursive: true });
    const runs = spec.seeds.length * spec.policies.length;
    let done = 0;
    const writes: Promise<void>[] = [];
    progress.start('bandit runs', runs);
    const result = await namingFlags(BANDIT_FLAGS, () =>
      runBanditStudy(spec, ({ policy, seed, result }) => {
        progress.update(++done, `${policy} seed ${seed}`);
        if (args.writeLogs) {
          writes.push(writeClickLog(path.join(args.out, `log-${policy}-seed${seed}.parquet`), { log: result.log, propensity: result.propensity }));
        }
      }),
    );
    await Promise.all(writes);
    progress.finish();
    writeFileAtomic(path.join(args.out, 'results.json'), `${JSON.stringify({ spec, curves: result.curves, table: result.table, wallSeconds: result.wallSeconds }, null, 2)}\n`);
    process.stdout.write(`${formatBanditTable(result)}\n\nwall time ${result.wallSeconds.toFixed(1)} s; results.json${args.writeLogs ? ' and the click logs' : ''} in ${args.out}\n`);
  },
};
