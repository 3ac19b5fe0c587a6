import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { spawnMxpost } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';
import { SmtpDialog, sendMail, testMessage } from '../support/smtp-client.ts';

const BIN = new URL('../../bin/mxpost', import.meta.url).pathname;

describe('when things go wrong', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  const routes = () => `domains:\n  example.test:\n    url: ${endpoint.url('/inbound')}\n    recipients: ["*"]\n`;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
  });
  after(async () => {
    await endpoint?.close();
    await redis?.dispose();
  });

  const withSubject = (subject: string) => endpoint.requests.filter((r) => r.json?.message?.subject === subject);

  test('delivers on the third attempt to an endpoint that fails twice, with the same delivery id each time', async () => {
    const flaky = await startEndpoint([500, 503]);
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: `domains:\n  flaky.test:\n    url: ${flaky.url()}\n    recipients: ["*"]\n` });
    try {
      const result = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@flaky.test'], message: testMessage({ subject: 'flaky' }) });
      assert.equal(result.data?.code, 250);
      const requests = await flaky.waitFor(3);
      // Give a wrongly scheduled fourth attempt the time to show up.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(flaky.requests.length, 3, 'delivered exactly on the third try, then no more');
      assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1);
      assert.ok(requests[1]!.at - requests[0]!.at >= 50, 'the retry waited for its back-off');
    } finally {
      await mxpost.close();
      await flaky.close();
    }
  });

  test('answers 451 4.3.0 while Redis is down, keeps running, and accepts again once Redis is back', async () => {
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: routes() });
    try {
      await redis.stop();
      const down = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@example.test'], message: testMessage({ subject: 'during outage' }) });
      assert.equal(down.rcpt[0]!.code, 250, 'recipients are still checked against the routes');
      assert.equal(down.data?.code, 451);
      assert.match(down.data!.text, /^4\.3\.0 /);

      await redis.start();
      let back;
      const deadline = Date.now() + 10_000;
      do {
        back = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@example.test'], message: testMessage({ subject: 'after outage' }) });
        if (back.data?.code === 250) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      } while (Date.now() < deadline);
      assert.equal(back.data?.code, 250);
      await waitUntil(() => withSubject('after outage').length >= 1);
      assert.equal(withSubject('during outage').length, 0, 'what got 451 was not half-accepted');
    } finally {
      await mxpost.close();
    }
  });

  test('a bad routes file stops start-up with a message naming the line and the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mxpost-routes-'));
    const file = join(dir, 'routes.yaml');
    writeFileSync(file, 'domains:\n  example.test:\n    url: ftp://nope\n    recipients: ["*"]\n');
    const child = spawn(BIN, ['serve'], { env: { ...process.env, MXPOST_ROUTES: file, MXPOST_REDIS_URL: redis.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = await once(child, 'exit');
    assert.equal(code, 78);
    assert.match(stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:3:\\d+: .*url: must be an http\\(s\\) URL`));
  });

  test('SIGTERM during a transaction finishes it, refuses new connections, exits 0 and loses nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mxpost-sigterm-'));
    const file = join(dir, 'routes.yaml');
    writeFileSync(file, routes());
    const prefix = `sigterm-${Date.now()}`;
    const mxpost = await spawnMxpost('serve', { MXPOST_ROUTES: file, MXPOST_REDIS_URL: redis.url, MXPOST_REDIS_PREFIX: prefix });
    const child = mxpost.child;
    const smtpPort = mxpost.smtpPort!;

    const { dialog } = await SmtpDialog.open(smtpPort);
    await dialog.command('EHLO client.sender.test');
    await dialog.command('MAIL FROM:<a@sender.test>');
    assert.equal((await dialog.command('RCPT TO:<x@example.test>')).code, 250);
    assert.equal((await dialog.command('DATA')).code, 354);
    const message = testMessage({ subject: 'in flight at SIGTERM' }).replace(/\r?\n/g, '\r\n');
    dialog.socket.write(message.slice(0, 60));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const refused = connect({ port: smtpPort, host: '127.0.0.1' });
    const [outcome] = await Promise.race([once(refused, 'error').then(([e]) => [(e as NodeJS.ErrnoException).code]), once(refused, 'connect').then(() => ['connected'])]);
    refused.destroy();
    assert.equal(outcome, 'ECONNREFUSED', 'no new connections once draining');

    dialog.socket.write(`${message.slice(60)}\r\n.\r\n`);
    const reply = await dialog.reply();
    assert.equal(reply.code, 250, `the transaction in progress is finished: ${reply.text}`);
    await dialog.quit();
    const [code] = await exited;
    assert.equal(code, 0);

    // Whatever the draining process did not deliver itself is in Redis for the next worker.
    const worker = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'worker', prefix });
    try {
      await waitUntil(() => withSubject('in flight at SIGTERM').length >= 1);
    } finally {
      await worker.close();
    }
  });
});

