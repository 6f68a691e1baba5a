import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { finnArrays, finnNpz } from '../helpers/finn-writer.js';
import { npzBytes } from '../helpers/npz-writer.js';

const cli = path.resolve('dist/cli/main.js');
const world = JSON.stringify({ items: 20, groups: 2, users: 60, dim: 3, slots: 5 });

describe('clicklab slates', () => {
  it('train saves a model folder that evaluate scores against popularity and the true world', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'clicklab-slates-')), 'model');
    const trained = execFileSync('node', [cli, 'slates', 'train', '--world', world, '--steps', '8', '--epochs', '2', '--batch-users', '20', '--out', out, '--quiet', '--backend', 'wasm'], {
      encoding: 'utf8',
    });
    expect(trained).toMatch(/training users; \d+ SVI steps/);
    const evaluated = execFileSync('node', [cli, 'slates', 'evaluate', '--model', out, '--k', '5', '--backend', 'wasm'], { encoding: 'utf8' });
    expect(evaluated).toMatch(/gru \(mean\)\s+-\d/);
    expect(evaluated).toMatch(/popularity\s+-\d/);
    expect(evaluated).toMatch(/true world\s+-\d/);
  });

  it('trains on a FINN.no data.npz (streamed in blocks) and evaluates on its test users', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-finn-gru-'));
    const items = 30;
    writeFileSync(path.join(dir, 'data.npz'), finnNpz(finnArrays(400, { steps: 8, slots: 6, items, seed: 'gru' })));
    writeFileSync(path.join(dir, 'itemattr.npz'), npzBytes({ category: { descr: '<i8', shape: [items + 3], data: BigInt64Array.from({ length: items + 3 }, (_, i) => BigInt(i % 4)) } }, true));
    const out = path.join(dir, 'model');
    const trained = execFileSync(
      'node',
      [cli, 'slates', 'train', '--data', path.join(dir, 'data.npz'), '--dim', '4', '--block-users', '150', '--epochs', '1', '--batch-users', '50', '--out', out, '--quiet', '--backend', 'wasm'],
      { encoding: 'utf8' },
    );
    expect(trained).toMatch(/^400 users; 8 SVI steps/);
    const evaluated = execFileSync('node', [cli, 'slates', 'evaluate', '--model', out, '--k', '5', '--backend', 'wasm'], { encoding: 'utf8' });
    expect(evaluated).toMatch(/gru \(mean\)\s+-\d/);
    expect(evaluated).toMatch(/popularity\s+-\d/);
    expect(evaluated).not.toMatch(/true world/);
  });

  it('bad input: one line naming it, exit code 1', () => {
    const missing = spawnSync('node', [cli, 'slates', 'evaluate', '--model', '/nonexistent/gru', '--backend', 'wasm'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/\/nonexistent\/gru\/model\.json/);
    const badWorld = spawnSync('node', [cli, 'slates', 'train', '--world', '{"itemz": 3}', '--out', path.join(tmpdir(), 'unused-gru'), '--backend', 'wasm'], { encoding: 'utf8' });
    expect(badWorld.status).toBe(1);
    expect(badWorld.stderr).toMatch(/--world/);
    expect(badWorld.stderr).toMatch(/itemz/);
  });
});
