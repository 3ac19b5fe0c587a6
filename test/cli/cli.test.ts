import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';

const BIN = new URL('../../bin/mxpost', import.meta.url).pathname;

test('mxpost --help lists every verb', () => {
  const result = spawnSync(BIN, ['--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0);
  for (const verb of ['serve', 'receiver', 'worker', 'dev', 'check']) assert.match(result.stdout, new RegExp(`^  ${verb}\\b`, 'm'), verb);
});

test('mxpost check accepts a valid routes file and summarises it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpost-check-'));
  writeFileSync(join(dir, 'routes.yaml'), 'domains:\n  example.test:\n    url: http://127.0.0.1:9000/inbound\n    recipients: ["*"]\n');
  const result = spawnSync(BIN, ['check', '--routes', join(dir, 'routes.yaml')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /example\.test → http:\/\/127\.0\.0\.1:9000\/inbound \(any recipient\)/);
});

test('mxpost check exits 78 naming the line of a bad routes file and every bad setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpost-check-'));
  writeFileSync(join(dir, 'routes.yaml'), 'domains:\n  example.test:\n    url: http://127.0.0.1:9000/inbound\n    recipients: []\n');
  const bad = spawnSync(BIN, ['check', '--routes', join(dir, 'routes.yaml')], { encoding: 'utf8' });
  assert.equal(bad.status, 78);
  assert.match(bad.stderr, /routes\.yaml:4:\d+: domains\."example\.test"\.recipients: /);
  const settings = spawnSync(BIN, ['check'], { encoding: 'utf8', env: { ...process.env, MXPOST_SMTP_PORT: '99999' } });
  assert.equal(settings.status, 78);
  assert.match(settings.stderr, /MXPOST_SMTP_PORT="99999"/);
});

test('mxpost dev runs its own Redis, prints each delivery, and stops everything on Ctrl-C', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'mxpost-dev-'));
  const child = spawn(BIN, ['dev'], {
    cwd,
    env: { ...process.env, MXPOST_SMTP_PORT: '0', MXPOST_HTTP_PORT: '0', MXPOST_DEV_INSPECTOR_PORT: '0', MXPOST_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  try {
    await waitUntil(() => /SMTP\s+127\.0\.0\.1:\d+/.test(out) || child.exitCode !== null, 20_000);
    const smtpPort = Number(/SMTP\s+127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const redisPort = Number(/Redis\s+redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    assert.ok(smtpPort && redisPort, out);
    assert.ok(existsSync(join(cwd, '.mxpost', 'redis')), 'Redis data is under .mxpost/redis');

    const result = await sendMail(smtpPort, { from: 'you@example.com', to: ['hello+demo@mxpost.test'], message: testMessage({ subject: 'Hello from the dev test' }) });
    assert.equal(result.data?.code, 250);
    await waitUntil(() => out.includes('Hello from the dev test'));
    assert.match(out, /route\s+mxpost\.test → hello\+demo@mxpost\.test \(tag demo\)/);

    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0);
    const probe = connect({ port: redisPort, host: '127.0.0.1' });
    const [err] = await once(probe, 'error');
    assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED', 'its redis-server is stopped');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
