import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { after, before, describe, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { spawnMxpost } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { sleep, startRedis } from '../smtp/harness.ts';

// Under overload mxpost answers 451 4.3.2 at MAIL FROM, before the client sends
// the message, rather than accepting what it cannot hold.
describe('backpressure', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  const routes = () => `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`;
  const send = (port: number, subject: string) => sendMail(port, { from: 'alice@sender.test', to: ['load@example.test'], message: testMessage({ subject }) });
  // The gate samples the queue at most once a second.
  const nextSample = () => sleep(1100);

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
  });
  after(async () => {
    await endpoint?.close();
    await redis?.dispose();
  });

  test('refuses new transactions with 451 4.3.2 while the backlog is over MXPOST_MAX_BACKLOG, and takes mail again once it drains', async () => {
    // A receiver without a worker: nothing is delivered, so the backlog only grows.
    const receiver = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'receiver', env: { MXPOST_MAX_BACKLOG: '3' } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await send(receiver.smtpPort, `backlog ${i}`)).data?.code, 250);
      await nextSample();
      const refused = await send(receiver.smtpPort, 'over the backlog');
      assert.equal(refused.mail.code, 451);
      assert.match(refused.mail.text, /^4\.3\.2 /);
      assert.equal(refused.data, null, 'the message itself is never sent');

      const worker = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'worker', prefix: receiver.prefix });
      try {
        await waitUntil(() => endpoint.requests.filter((r) => /^backlog /.test(r.json?.message?.subject)).length === 3);
        await nextSample();
        assert.equal((await send(receiver.smtpPort, 'after the drain')).data?.code, 250);
      } finally {
        await worker.close();
      }
    } finally {
      await receiver.close();
    }
  });

  test('refuses new transactions with 451 4.3.2 while Redis is near its maxmemory', async () => {
    const admin = new Redis(redis.url);
    const receiver = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'receiver', env: { MXPOST_REDIS_MEMORY_LIMIT_PERCENT: '90' } });
    try {
      assert.equal((await send(receiver.smtpPort, 'memory ok')).data?.code, 250);
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory', String(Math.ceil(used * 1.05)));
      await nextSample();
      const refused = await send(receiver.smtpPort, 'memory full');
      assert.equal(refused.mail.code, 451);
      assert.match(refused.mail.text, /^4\.3\.2 /);
      await admin.config('SET', 'maxmemory', '0');
      await nextSample();
      assert.equal((await send(receiver.smtpPort, 'memory again')).data?.code, 250);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
      await receiver.close();
    }
  });

  test('warns at start-up when Redis may evict keys (maxmemory-policy other than noeviction)', async () => {
    const evicting = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
    const dir = mkdtempSync(join(tmpdir(), 'mxpost-evict-'));
    writeFileSync(join(dir, 'routes.yaml'), routes());
    const receiver = await spawnMxpost('receiver', { MXPOST_ROUTES: join(dir, 'routes.yaml'), MXPOST_REDIS_URL: evicting.url });
    try {
      const warning = () =>
        receiver
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l))
          .find((l) => l.action === 'redis-check');
      await waitUntil(() => warning() !== undefined);
      assert.equal(warning().level, 40, 'logged as a warning');
      assert.equal(warning().maxmemoryPolicy, 'allkeys-lru');
    } finally {
      await receiver.stop();
      await evicting.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
