/**
 * The README's TypeScript examples compile against the library as it is: each ```ts block is
 * written to a temporary module importing `src/index.ts` in place of 'clicklab' and type-checked
 * with the project's compiler settings.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const blocks = [...readFileSync('README.md', 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

describe("the README's code blocks", () => {
  it('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it('type-checks every one against src/index.ts', () => {
    // Inside the project (git-ignored), so that the compiler resolves types as it does for src/.
    mkdirSync('.readme-check', { recursive: true });
    const dir = mkdtempSync(path.resolve('.readme-check', 'run-'));
    const index = path.resolve('src/index.js');
    const files = blocks.map((code, i) => {
      const file = path.join(dir, `example-${i + 1}.mts`);
      writeFileSync(file, `${code.replaceAll("from 'clicklab'", `from '${index}'`)}\nexport {};\n`);
      return file;
    });
    // The project's compiler settings, over these files (and the sources they import).
    const config = {
      extends: path.resolve('tsconfig.json'),
      compilerOptions: { noEmit: true, rootDir: '/', typeRoots: [path.resolve('node_modules/@types')] },
      include: [path.resolve('src'), ...files],
    };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
    const args = ['-p', path.join(dir, 'tsconfig.json')];
    // The compiler the build uses (npm scripts' tsc).
    const tsc = path.resolve('node_modules/.bin/tsc');
    const result = spawnSync(tsc, args, { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);
});
