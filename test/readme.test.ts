import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ERRORS } from '../src/errors.js';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const configSource = await readFile(new URL('../src/config.ts', import.meta.url), 'utf8');

test('the README lists every error code with its status', () => {
  for (const [code, { status }] of Object.entries(ERRORS)) {
    const row = new RegExp(`\\| \`${code}\` \\| ${status} \\|`);
    assert.match(readme, row, `${code} (${status}) is missing from the README's error table`);
  }
});

test('the README documents every environment variable the configuration reads', () => {
  const names = [...configSource.matchAll(/\(env, '([A-Z_]+)'/g)].map((match) => match[1]!);
  names.push('DATABASE_URL', 'CORS_ORIGINS');

  assert.ok(names.length > 10, 'the variables were found in the source');
  for (const name of new Set(names)) {
    assert.match(readme, new RegExp(`\\| \`${name}\` \\|`), `${name} is not in the README`);
  }
});

test('the README starts with the two commands for a fresh clone', () => {
  const firstScreen = readme.split('\n').slice(0, 20).join('\n');

  assert.match(firstScreen, /npm ci && npm start/);
  assert.match(firstScreen, /npm ci && npm test/);
});
