// Lint: recommended JS + typescript-eslint rules, plus the project's layering rule:
// ztunnel/, waypoint/ and controller/ never import each other (they share only shared/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const others = (self) => ['ztunnel', 'waypoint', 'controller']
  .filter((d) => d !== self)
  .map((d) => ({ group: [`**/${d}/**`, `../${d}/*`], message: `${self}/ must not import ${d}/; move shared code to shared/` }));

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
  ...['ztunnel', 'waypoint', 'controller'].map((d) => ({
    files: [`${d}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: others(d) }] },
  })),
);
