import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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
