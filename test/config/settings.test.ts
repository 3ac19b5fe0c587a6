import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSettings, SETTINGS, SettingsError } from '../../src/config/settings.ts';

test('applies the documented defaults when nothing is set', () => {
  const settings = loadSettings({});
  assert.equal(settings.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(settings.smtpPort, 2525);
  assert.equal(settings.httpPort, 8080);
  assert.equal(settings.routesPath, 'routes.yaml');
  assert.equal(settings.maxMessageBytes, 25 * 1024 * 1024);
  assert.ok(settings.hostname.length > 0, 'an empty MXPOST_HOSTNAME falls back to the host name');
  assert.ok(Object.isFrozen(settings));
});

test('lists every invalid setting at once, each with its name and value', () => {
  assert.throws(
    () => loadSettings({ MXPOST_SMTP_PORT: 'twenty-five', MXPOST_LOG_LEVEL: 'loud', MXPOST_REDIS_URL: 'localhost:6379' }),
    (err: unknown) => {
      assert.ok(err instanceof SettingsError);
      assert.equal(err.problems.length, 3);
      assert.match(err.message, /MXPOST_SMTP_PORT="twenty-five"/);
      assert.match(err.message, /MXPOST_LOG_LEVEL="loud"/);
      assert.match(err.message, /MXPOST_REDIS_URL="localhost:6379": must start with redis:\/\//);
      return true;
    },
  );
});

test('reads a setting from the file named by <NAME>_FILE, without its trailing newline', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mxpost-settings-')), 'redis-url');
  writeFileSync(file, 'redis://:s3cret@redis.internal:6380\n');
  assert.equal(loadSettings({ MXPOST_REDIS_URL_FILE: file }).redisUrl, 'redis://:s3cret@redis.internal:6380');
});

test('refuses a setting given both directly and through <NAME>_FILE', () => {
  assert.throws(() => loadSettings({ MXPOST_REDIS_URL: 'redis://a', MXPOST_REDIS_URL_FILE: '/dev/null' }), /both set/);
});

test('.env.example lists every setting with the default the code applies', () => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const documented = new Map(
    example
      .split('\n')
      .filter((line) => /^MXPOST_[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  for (const [name, { default: fallback }] of Object.entries(SETTINGS)) {
    assert.equal(documented.get(name), fallback, `${name} in .env.example`);
  }
});
