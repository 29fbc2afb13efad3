// One lint rule set for the whole tree. Its main job: keep protocol/ pure
// (no network, storage, clock or environment), as docs/STYLE.md asks.
import tseslint from 'typescript-eslint';

const ioModules = [
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises',
  'net', 'node:net', 'http', 'node:http', 'https', 'node:https',
  'dgram', 'node:dgram', 'child_process', 'node:child_process',
  'express', 'level', 'classic-level', 'bcoin',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.data/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {},
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ioModules.map((name) => ({ name, message: 'protocol/ is pure: no I/O (docs/STYLE.md)' })),
        patterns: [{ group: ['**/src/**', '**/oracle/**', '**/regtest/**'], message: 'protocol/ must not import services' }],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'protocol/ reads no environment: take values as parameters' },
        { name: 'fetch', message: 'protocol/ does no network I/O' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'protocol/ has no clock: take the time as a parameter' },
      ],
    },
  },
);
