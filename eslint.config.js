import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // templates/ is compiled and tested in the projects strata new makes (test/integration/scaffold.test.ts).
  { ignores: ['dist/', 'node_modules/', '.strata/', 'templates/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // node:test's describe and it return promises the runner itself awaits.
    files: ['test/**/*.ts', 'examples/*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it'] }] },
      ],
    },
  },
  {
    // The platform reads as short named steps (docs/development.md); tests and the example app may run longer.
    files: ['{app,cli,shared,infra,write-side,read-side,projections,stores}/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, IIFEs: true }] },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
