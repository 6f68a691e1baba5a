/**
 * The hygiene checks that `npm test` runs (`npm run lint`) fire on a deliberately broken tree: an
 * upward import, an import cycle, a lint error and an unformatted file each fail, with the rule
 * named. Each check runs on a small temporary copy with the project's own configuration files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve('.');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-checks-'));
  for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json', 'biome.json', '.gitignore']) copyFileSync(path.join(root, file), path.join(dir, file));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the layering check (dependency-cruiser)', () => {
  const depcruise = (dir: string) => run(bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs'], dir);

  it('passes a tree that imports downwards only', () => {
    const dir = tree({ 'src/core/a.ts': 'export const a = 1;\n', 'src/studies/b.ts': "import { a } from '../core/a.js';\nexport const b = a;\n" });
    expect(depcruise(dir).status).toBe(0);
  });

  it('fails on an upward import, naming the layer rule', () => {
    const dir = tree({ 'src/studies/b.ts': 'export const b = 1;\n', 'src/simulation/a.ts': "import { b } from '../studies/b.js';\nexport const a = b;\n" });
    const { status, output } = depcruise(dir);
    expect(status).not.toBe(0);
    expect(output).toContain('layer-simulation');
  });

  it('fails on an import cycle', () => {
    const dir = tree({
      'src/simulation/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/simulation/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    });
    const { status, output } = depcruise(dir);
    expect(status).not.toBe(0);
    expect(output).toContain('no-circular');
  });
});

describe('the linter and formatter (Biome)', () => {
  const biome = (dir: string) => run(bin('biome'), ['check', 'src'], dir);

  it('passes a clean, formatted file', () => {
    expect(biome(tree({ 'src/core/a.ts': 'export const a = [1, 2].map((x) => x * 2);\n' })).status).toBe(0);
  });

  it('fails on a lint error, naming the rule', () => {
    const { status, output } = biome(tree({ 'src/core/a.ts': 'export function a(x: number): number {\n  debugger;\n  return x;\n}\n' }));
    expect(status).not.toBe(0);
    expect(output).toContain('lint/suspicious/noDebugger');
  });

  it('fails on an unformatted file', () => {
    const { status, output } = biome(tree({ 'src/core/a.ts': 'export const a   =   [1,2].map( x=>x*2 )\n' }));
    expect(status).not.toBe(0);
    expect(output).toContain('Formatter would have printed');
  });
});
