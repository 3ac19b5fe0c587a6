import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { envExample, EXTERNAL_SECRETS, operationsSettings, ROOT } from './contract.ts';

const guide = readFileSync(`${ROOT}docs/operations.md`, 'utf8');

describe('docs/operations.md', () => {
  test('lists every setting of .env.example, in its order, with its default', () => {
    const table = operationsSettings().map(({ name, default: value }) => `${name}=${value}`);
    const example = [...envExample()].map(([name, value]) => `${name}=${value}`);
    assert.deepEqual(table, example);
  });

  test('tells the operator to create every Secret the manifests read, with its keys', () => {
    for (const [secret, keys] of Object.entries(EXTERNAL_SECRETS)) {
      const row = guide.split('\n').find((line) => line.trim().startsWith(`| \`${secret}\` |`));
      assert.ok(row, `a row for ${secret}`);
      for (const key of keys) assert.ok(row.includes(key), `${secret} row names ${key}`);
    }
  });

  test('covers what an operator needs', () => {
    for (const heading of ['DNS for a receiving domain', 'Opening port 25', 'Scaling', 'Redis', 'What a crash can lose', 'Sizing', 'Upgrades', 'Backup and restore', 'Settings']) {
      assert.match(guide, new RegExp(`^#+ ${heading}$`, 'm'));
    }
    for (const term of ['appendfsync always', 'appendfsync everysec', 'noeviction', 'MX', 'v=spf1', '_dmarc', 'externalTrafficPolicy: Local']) {
      assert.ok(guide.includes(term), term);
    }
  });
});
