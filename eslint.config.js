// Lint: recommended JS + typescript-eslint rules, plus the project's layering rule:
// ztunnel/, waypoint/ and controller/ never import each other (they share only shared/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const BINARIES = ['ztunnel', 'waypoint', 'controller'];
const MAX_DEPTH = 6;
// Import specifiers are matched as text, so the rule is made per folder depth: a file N folders below the repo root
// reaches another binary's folder only through exactly N `../`. (A name-only pattern would also catch a binary's own
// sub-folder of the same name, e.g. controller/waypoint/, and shared/waypoint/.)
const others = (self, depth) => BINARIES
  .filter((d) => d !== self)
  .map((d) => ({ group: [`${'../'.repeat(depth)}${d}/**`], message: `${self}/ must not import ${d}/; move shared code to shared/` }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'native/build/**', '.state/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-undef': 'off', // TypeScript checks names; Node globals need no list
    },
  },
  ...BINARIES.flatMap((d) => Array.from({ length: MAX_DEPTH }, (_, i) => ({
    files: [`${d}/${'*/'.repeat(i)}*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: others(d, i + 1) }] },
  }))),
);
