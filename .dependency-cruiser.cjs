/**
 * clicklab's layering, checked by `npm run lint:deps` (part of `npm test`): dependencies point
 * downwards only, as README "Architecture" draws them, and there are no import cycles.
 *
 *   cli → runner · bench → studies → learning · evaluation · fitting · policies → simulation → data → core
 */
const below = (...folders) => `^src/(?!(${folders.join('|')})/)[^/]+/`;

/** Each folder and the folders it may import from (besides itself). */
const allowed = {
  core: [],
  data: ['core'],
  simulation: ['core', 'data'],
  fitting: ['core', 'data', 'simulation'],
  policies: ['core', 'data', 'simulation'],
  learning: ['core', 'data', 'simulation', 'fitting', 'policies'],
  evaluation: ['core', 'data', 'simulation', 'policies'],
  studies: ['core', 'data', 'simulation', 'fitting', 'policies', 'learning', 'evaluation'],
  runner: ['core', 'data', 'simulation', 'fitting', 'policies', 'learning', 'evaluation', 'studies'],
  bench: ['core', 'data', 'simulation', 'fitting', 'policies', 'learning', 'evaluation', 'studies'],
  cli: ['core', 'data', 'simulation', 'fitting', 'policies', 'learning', 'evaluation', 'studies', 'runner', 'bench'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the shared part into a module both sides import.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...Object.entries(allowed).map(([folder, deps]) => ({
      name: `layer-${folder}`,
      severity: 'error',
      comment: `src/${folder}/ may import only from ${deps.length ? deps.map((d) => `src/${d}/`).join(', ') : 'nothing else in src/'} (README "Architecture").`,
      from: { path: `^src/${folder}/` },
      to: { path: below(folder, ...deps) },
    })),
    {
      name: 'index-only-at-the-top',
      severity: 'error',
      comment: 'src/index.ts is the public API: nothing inside src imports it.',
      from: { path: '^src/(?!index\\.ts$)' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, dependencyTypesNot: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
