// ESLint (flat config) for the whole repository. `npm run lint` runs it and `npm test` runs
// `npm run lint`. Formatting is Prettier's (.prettierrc.json, 120 columns); this file holds the
// rules a formatter cannot check: the layering between ring/, server/ and app/, promises that
// nobody awaits in server code, and `any` leaking out of production modules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A relative import that reaches into ring/ past its public faces (ring/index.ts, ring/sim/index.ts). */
const ringInternal = String.raw`(^|/)ring/(?!index$|index\.ts$|sim/index$|sim/index\.ts$|sim$)[^]*$`;

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.next/**',
      'dist/**',
      'data/**',
      'test-results/**',
      'playwright-report/**',
      'bench/baselines/next-redis/**',
      'next-env.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      // tsc's noUnusedLocals/noUnusedParameters already report these, with the same meaning.
      '@typescript-eslint/no-unused-vars': 'off',
      'no-unused-vars': 'off',
      // Types are checked by tsc; these duplicate it for TypeScript sources.
      'no-undef': 'off',
      'no-redeclare': 'off',
    },
  },
  // Layering: outside ring/, the ring is reached only through its public faces.
  {
    files: ['server/**', 'bench/**', 'chaos/**', 'scripts/**', 'tests/**', 'testkit/**'],
    ignores: ['tests/ring/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: ringInternal,
              message: 'Import the ring through ring/index.ts (or ring/sim/index.ts for the simulator).',
            },
          ],
        },
      ],
    },
  },
  // ring/ knows nothing of HTTP, Next.js, links or the server.
  {
    files: ['ring/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`(^|/)(server|app|contract|tests|bench|chaos|testkit)/`,
              message: 'ring/ must not import other layers.',
            },
          ],
          paths: [
            { name: 'next', message: 'ring/ knows nothing of Next.js.' },
            { name: 'node:http', message: 'ring/ does no I/O: transports live in server/.' },
            { name: 'socket.io', message: 'ring/ knows nothing of socket.io.' },
          ],
        },
      ],
    },
  },
  // app/ reaches the server only through HTTP and socket.io: type-only imports of the wire contract.
  {
    files: ['app/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`(^|/)(ring|server|tests|bench|chaos|testkit)/`,
              message: 'app/ talks to the server only through HTTP and socket.io.',
            },
            {
              regex: String.raw`(^|/)contract/`,
              allowTypeImports: true,
              message: 'app/ imports the wire contract with `import type` only.',
            },
          ],
        },
      ],
    },
  },
  // contract/ is the wire: zod schemas and types shared by server/ and app/, nothing else.
  {
    files: ['contract/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`(^|/)(ring|server|app|tests|bench|chaos|testkit)/`,
              message: 'contract/ depends on nothing of the project.',
            },
          ],
        },
      ],
    },
  },
  // The evidence folders depend in one direction: chaos/ and bench/ never import tests/, and the
  // test-support module imports none of them.
  {
    files: ['chaos/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: ringInternal, message: 'Import the ring through ring/index.ts (or ring/sim/index.ts).' },
            { regex: String.raw`(^|/)tests/`, message: 'bench/ and chaos/ use testkit/, never tests/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['testkit/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: ringInternal, message: 'Import the ring through ring/index.ts (or ring/sim/index.ts).' },
            {
              regex: String.raw`(^|/)(tests|bench|chaos)/`,
              message: 'testkit/ is imported by the evidence, never the other way.',
            },
          ],
        },
      ],
    },
  },
  // Evidence code may cast freely; production code may not.
  {
    files: ['tests/**', 'bench/**', 'chaos/**', 'testkit/**', 'ring/sim/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Tests feed control characters on purpose (input rules, fuzzing).
  {
    files: ['tests/**'],
    rules: { 'no-control-regex': 'off' },
  },
  // Production code: no `any` in what a module exports, no promise nobody awaits in server/.
  {
    files: ['ring/**/*.ts', 'server/**/*.ts', 'contract/**/*.ts', 'app/**/*.ts', 'app/**/*.tsx'],
    ignores: ['ring/sim/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['server/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
);
