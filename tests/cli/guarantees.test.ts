/**
 * README "Guarantees", the command-line half: exit codes (1 bad input, 2 usage, 3 internal error),
 * one-line messages without a stack trace, outputs that would destroy an input refused before any
 * work, OPE weight warnings, training data without signal refused, sizes bounded by validation.
 * Runs the compiled CLI (dist/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const cli = path.resolve('dist/cli/main.js');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function clicklab(args: string[], options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Result {
  const result = spawnSync(process.execPath, [...(options.nodeArgs ?? []), cli, ...args], { encoding: 'utf8', env: { ...process.env, CLICKLAB_DEBUG: '', ...options.env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** TF.js prints a banner on stderr when it starts its CPU backend: not clicklab's output. */
function clicklabLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('clicklab:'));
}

/** Exit 1 and exactly one `clicklab:` line containing `message`, no stack trace. */
function expectOneLine(result: Result, message: string | RegExp, status = 1): void {
  expect(result.status, result.stderr).toBe(status);
  const lines = clicklabLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-guarantees-'));
let logCounter = 0;

/** A small simulated click log (file-order logger: no training). */
function simulatedLog(extraArgs: string[] = []): string {
  const out = path.join(dir, `log-${++logCounter}.csv`);
  const result = clicklab(['simulate', '--out', out, '--sessions', '200', '--logger', 'file-order', '--quiet', '--backend', 'cpu', ...extraArgs]);
  expect(result.status, result.stderr).toBe(0);
  return out;
}

describe('exit codes', () => {
  it('a usage error (unknown flag, missing argument) exits 2 with one line', () => {
    expectOneLine(clicklab(['fit', '--bogus']), /Unknown argument|Missing required/, 2);
    expectOneLine(clicklab(['recommend']), 'name an action', 2);
  });

  it('bad input exits 1 with one line', () => {
    const missing = path.join(dir, 'missing.csv');
    expectOneLine(clicklab(['fit', '--model', 'pbm', '--log', missing, '--out', path.join(dir, 'fitted.json')]), `${missing}: no such file or folder`);
  });

  it('an internal error exits 3 with one line; its stack only under --debug or CLICKLAB_DEBUG=1', () => {
    // A bug, injected: writing to stdout throws a TypeError.
    const nodeArgs = ['--import', 'data:text/javascript,process.stdout.write=()=>{throw new TypeError("injected bug")}'];
    const plain = clicklab(['doctor'], { nodeArgs });
    expectOneLine(plain, 'clicklab: internal error: TypeError: injected bug (run with --debug or CLICKLAB_DEBUG=1 for the stack)', 3);
    for (const debug of [clicklab(['doctor'], { nodeArgs, env: { CLICKLAB_DEBUG: '1' } }), clicklab(['doctor', '--debug'], { nodeArgs })]) {
      expect(debug.status).toBe(3);
      expect(debug.stderr).toMatch(/\n\s+at /);
      expect(debug.stderr).toContain('clicklab: internal error: TypeError: injected bug');
    }
  });
});

describe('guarded outputs', () => {
  it('fit --out equal to the input log is refused and the log is untouched (also through a symbolic link or ..)', () => {
    const log = simulatedLog();
    const before = readFileSync(log);
    expectOneLine(clicklab(['fit', '--model', 'pbm', '--log', log, '--out', log]), `--out: ${log} is the input given to --log`);
    const dotted = path.join(dir, 'sub', '..', path.basename(log));
    expectOneLine(clicklab(['fit', '--model', 'pbm', '--log', log, '--out', dotted]), 'is the input given to --log');
    const link = path.join(dir, 'link.csv');
    symlinkSync(log, link);
    expectOneLine(clicklab(['fit', '--model', 'pbm', '--log', link, '--out', log]), 'is the input given to --log');
    expect(readFileSync(log).equals(before)).toBe(true);
  });

  it('convert, simulate --world, train and score refuse an --out that is, or lies inside, an input', () => {
    const log = simulatedLog();
    expectOneLine(clicklab(['convert', log, '--format', 'generic', '--out', log]), 'is the input given to <input>');
    const world = path.join(dir, 'world.json');
    writeFileSync(world, '{}\n');
    expectOneLine(clicklab(['simulate', '--world', world, '--out', world, '--sessions', '10']), 'is the input given to --world');
    expectOneLine(clicklab(['train', '--learner', 'naive', '--log', log, '--out', log, '--steps', '1', '--backend', 'cpu']), 'is the input given to --log');
    const model = path.join(dir, 'a-model');
    mkdirSync(model);
    expectOneLine(clicklab(['score', model, log, '--out', path.join(model, 'weights.bin')]), `lies inside ${model}, the input given to <model>`);
  });

  it('checks --out before any work: an unwritable place is refused at once', () => {
    const file = simulatedLog();
    // bench would simulate a million sessions first; ope, bandit and train would do all their work.
    const started = Date.now();
    expectOneLine(clicklab(['bench', '--results', dir]), `--results: ${dir} is a folder, expected a file`);
    expectOneLine(clicklab(['ope', '--out', path.join(file, 'sub')]), `--out: cannot create the folder ${path.join(file, 'sub')}: ${file} is a file`);
    expectOneLine(clicklab(['bandit', '--out', file, '--rounds', '10']), `--out: ${file} is a file, expected a folder`);
    expectOneLine(clicklab(['bench-gpu', '--out', path.join(dir, 'no-such-folder', 'r.json')]), '--out: the folder');
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});

describe('a full disk', () => {
  it('a file-size limit hit while writing results.json is one line naming the file; the previous file is untouched', () => {
    const out = path.join(dir, 'ope-limited');
    mkdirSync(out);
    writeFileSync(path.join(out, 'results.json'), 'previous\n');
    // ulimit -f 1: writes past 1 KiB fail with EFBIG (Node ignores SIGXFSZ).
    const command = `ulimit -f 1; exec "${process.execPath}" "${cli}" ope --protocol simulated --sizes 50 --seeds 2 --quiet --out "${out}"`;
    const result = spawnSync('bash', ['-c', command], { encoding: 'utf8', env: { ...process.env, CLICKLAB_DEBUG: '' } });
    expectOneLine({ status: result.status, stdout: result.stdout, stderr: result.stderr }, `${path.join(out, 'results.json')}: cannot write the file: file too large`);
    expect(readFileSync(path.join(out, 'results.json'), 'utf8')).toBe('previous\n');
    expect(readdirSync(out)).toEqual(['results.json']);
  });
});

describe('wrong numbers are not silent', () => {
  /** The first 300 rows of the shipped Open Bandit sample, one propensity replaced. */
  function openBanditLog(pscore: string): string {
    const text = gunzipSync(readFileSync(path.resolve('datasets/open-bandit/random/men/men.csv.gz'))).toString('utf8');
    const lines = text.split('\n').slice(0, 301);
    const cells = lines[5].split(',');
    cells[5] = pscore;
    lines[5] = cells.join(',');
    const file = path.join(dir, `obd-${pscore}.csv`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  it('ope warns, one line per estimator, where one row carries the weight (pscore 1e-300), and prints ESS and max weight share', () => {
    const result = clicklab(['ope', '--log', openBanditLog('1e-300'), '--policy', 'uniform', '--resamples', '50', '--quiet', '--out', path.join(dir, 'ope-tiny')]);
    expect(result.status, result.stderr).toBe(0);
    const warnings = clicklabLines(result.stderr);
    for (const estimator of ['ipw', 'snipw', 'dr', 'sndr']) {
      expect(warnings.some((w) => w.startsWith(`clicklab: warning: ${estimator}: row 5 carries 100% of the total importance weight`))).toBe(true);
    }
    // Clipped and switched estimators do not rest on that row: no warning for them.
    expect(warnings.some((w) => w.includes('switch-dr'))).toBe(false);
    expect(warnings).toHaveLength(4);
    expect(result.stdout).toContain('ESS');
    expect(result.stdout).toContain('max w share');
    const saved = JSON.parse(readFileSync(path.join(dir, 'ope-tiny', 'results.json'), 'utf8'));
    expect(saved.result.table[0].weights.effectiveSampleSize).toBeCloseTo(1, 6);
  });

  it('ope refuses a propensity that makes a weight non-finite, naming the row', () => {
    expectOneLine(
      clicklab(['ope', '--log', openBanditLog('1e-320'), '--policy', 'uniform', '--resamples', '50', '--quiet', '--out', path.join(dir, 'ope-denormal')]),
      /pscore\[4\]: row 5: the importance weight .* is not finite/,
    );
    expect(existsSync(path.join(dir, 'ope-denormal'))).toBe(false);
  });

  it('train refuses one-document sessions, a zero propensity, a log without clicks and items not in the data set', () => {
    const single = simulatedLog(['--cutoff', '1']);
    const train = (log: string, ...more: string[]) => clicklab(['train', '--log', log, '--out', path.join(dir, 'model'), '--steps', '5', '--backend', 'cpu', '--quiet', ...more]);
    expectOneLine(train(single, '--learner', 'naive'), `${single}: every session shows one document: learner naive compares the documents of a session`);
    const ten = simulatedLog();
    expectOneLine(train(ten, '--learner', 'ips', '--propensities', '1', '0'), '--propensities: rank 2 has propensity 0');
    // Edited as a third-party table: without clicklab's first and last (comment) lines.
    const rows = readFileSync(ten, 'utf8')
      .trimEnd()
      .split('\n')
      .filter((line) => !line.startsWith('#'));
    const header = rows[0].split(',');
    const clickColumn = header.indexOf('click');
    const itemColumn = header.indexOf('item_id');
    const edited = (edit: (cells: string[], row: number) => void) => {
      const file = path.join(dir, `edited-${++logCounter}.csv`);
      writeFileSync(
        file,
        `${[
          rows[0],
          ...rows.slice(1).map((line, r) => {
            const cells = line.split(',');
            edit(cells, r);
            return cells.join(',');
          }),
        ].join('\n')}\n`,
      );
      return file;
    };
    const noClicks = edited((cells) => {
      cells[clickColumn] = '0';
    });
    expectOneLine(train(noClicks, '--learner', 'naive'), `${noClicks}: no click in 200 sessions`);
    const unknownItem = edited((cells, r) => {
      if (r === 1) cells[itemColumn] = '99999';
    });
    expectOneLine(train(unknownItem, '--learner', 'naive'), /row 2 has item 99999, but the data set has \d+ documents/);
    expect(existsSync(path.join(dir, 'model'))).toBe(false);
  });
});

describe('validation bounds before work', () => {
  const fitting = (fields: Record<string, unknown>) => {
    const file = path.join(dir, `scenario-${++logCounter}.json`);
    writeFileSync(file, JSON.stringify({ schema: 'clicklab/scenario@2', name: 'bounds', study: 'fitting', models: ['pbm'], seeds: [1], ...fields }));
    return file;
  };

  it('sessions 1e12 and 1e308 and world.queries 1e9 are refused with the bound and the reason; no run folder is left', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sessions: 1e12 }, /sessions: 1000000000000 sessions × 10 rows each = .* more than an in-memory log can hold \(2\^31 − 1/],
      [{ sessions: 1e308 }, /sessions: expected an integer ≥ 2 and ≤ 2\^53 − 1 \(no count is larger\), found 1e\+308/],
      [{ world: { queries: 1e9 } }, /world\.queries: 1000000000 queries × 10 rows each/],
    ];
    for (const [fields, message] of cases) {
      const out = path.join(dir, `run-${++logCounter}`);
      expectOneLine(clicklab(['run', fitting(fields), '--out', out, '--quiet']), message);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('bandit --seeds 1 1 is refused as run refuses duplicate seeds', () => {
    expectOneLine(clicklab(['bandit', '--seeds', '1', '1', '--rounds', '10', '--out', path.join(dir, 'bandit-twice')]), '--seeds: the seed 1 is listed twice');
  });

  it('run --resume after a truncated result file reruns that task, says so, and ends as an uninterrupted run', () => {
    const scenario = path.join(dir, 'bandit.json');
    writeFileSync(
      scenario,
      JSON.stringify({ schema: 'clicklab/scenario@2', name: 'truncated', study: 'bandit', world: { items: 10, slateSize: 3 }, rounds: 200, curvePoints: 5, policies: ['random'], seeds: [1, 2] }),
    );
    const out = path.join(dir, 'run-truncated');
    expect(clicklab(['run', scenario, '--out', out, '--workers', '1', '--quiet']).status).toBe(0);
    const cellDir = path.join(out, 'cells', readdirSync(path.join(out, 'cells'))[0]);
    const seedFile = path.join(cellDir, readdirSync(cellDir).find((f) => f.includes('2'))!);
    const whole = readFileSync(seedFile, 'utf8');
    const results = readFileSync(path.join(out, 'results.csv'), 'utf8');
    writeFileSync(seedFile, whole.slice(0, Math.floor(whole.length / 2)));
    const resumed = clicklab(['run', scenario, '--out', out, '--resume', '--workers', '1']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`${seedFile}: not a complete result (unreadable JSON): running that task again`);
    expect(readFileSync(seedFile, 'utf8')).toBe(whole);
    expect(readFileSync(path.join(out, 'results.csv'), 'utf8')).toBe(results);
  });
});
