import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';

const BIN = new URL('../../bin/mxpost', import.meta.url).pathname;

describe('delivery isolation and crash safety', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.dispose();
  });

  test('an endpoint that never answers does not delay deliveries to a healthy one', async (t) => {
    const healthy = await startEndpoint();
    const failing = await startEndpoint();
    failing.setFallback({ hang: true });
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { MXPOST_DELIVERY_CONCURRENCY: '4', MXPOST_DELIVERY_TIMEOUT_MS: '1000' },
      routes: `domains:\n  good.test:\n    url: ${healthy.url()}\n    recipients: ["*"]\n  bad.test:\n    url: ${failing.url()}\n    recipients: ["*"]\n`,
    });
    try {
      /** Sends `count` messages to good.test and returns each one's time from sending to the endpoint. */
      const healthyLatencies = async (label: string, count: number): Promise<number[]> => {
        const accepted = new Map<string, number>();
        for (let i = 0; i < count; i++) {
          const subject = `${label} ${i}`;
          const sentAt = Date.now();
          const result = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@good.test'], message: testMessage({ subject }) });
          assert.equal(result.data?.code, 250);
          accepted.set(subject, sentAt);
        }
        await waitUntil(() => [...accepted.keys()].every((s) => healthy.requests.some((r) => r.json?.message?.subject === s)), 15_000);
        return [...accepted].map(([subject, at]) => healthy.requests.find((r) => r.json.message.subject === subject)!.at - at);
      };

      const alone = await healthyLatencies('alone', 5);
      for (let i = 0; i < 20; i++) {
        const result = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@bad.test'], message: testMessage({ subject: `bad ${i}` }) });
        assert.equal(result.data?.code, 250);
      }
      await failing.waitFor(2);
      const beside = await healthyLatencies('beside', 5);
      t.diagnostic(`healthy endpoint latency alone: ${alone.join(', ')} ms; beside a hanging one: ${beside.join(', ')} ms`);
      // Without isolation every slot would be held by a hanging request for the
      // whole 1 s timeout, and each healthy delivery would wait behind them.
      assert.ok(Math.max(...beside) < 900, `healthy deliveries waited ${Math.max(...beside)} ms`);
      assert.ok(failing.requests.length <= 12, `the failing endpoint got ${failing.requests.length} requests, not one per job and retry`);
    } finally {
      await mxpost.close();
      await healthy.close();
      await failing.close();
    }
  });

  test('a worker killed with SIGKILL in the middle of a POST loses nothing: another worker delivers it with the same webhook-id', async () => {
    const endpoint = await startEndpoint([{ hang: true }]);
    const routes = `domains:\n  d.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`;
    const file = join(mkdtempSync(join(tmpdir(), 'mxpost-kill-')), 'routes.yaml');
    writeFileSync(file, routes);
    const prefix = `kill-${Date.now()}`;
    // Short request timeout, hence a short job lock: the crash is noticed within seconds.
    const env = { MXPOST_DELIVERY_TIMEOUT_MS: '500', MXPOST_REDIS_PREFIX: prefix };
    const receiver = await startMxpost({ redisUrl: redis.url, routes, role: 'receiver', prefix, env });
    const child = spawn(BIN, ['worker'], {
      env: { ...process.env, ...env, MXPOST_ROUTES: file, MXPOST_REDIS_URL: redis.url, MXPOST_HTTP_PORT: '0', MXPOST_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let rescuer: Awaited<ReturnType<typeof startMxpost>> | null = null;
    try {
      const result = await sendMail(receiver.smtpPort, { from: 'a@sender.test', to: ['x@d.test'], message: testMessage({ subject: 'killed mid-POST' }) });
      assert.equal(result.data?.code, 250);
      const [first] = await endpoint.waitFor(1, 15_000);
      child.kill('SIGKILL');
      await once(child, 'exit');
      rescuer = await startMxpost({ redisUrl: redis.url, routes, role: 'worker', prefix, env });
      const requests = await endpoint.waitFor(2, 30_000);
      assert.equal(requests[1]!.headers['webhook-id'], first!.headers['webhook-id']);
      assert.equal(requests[1]!.json.message.subject, 'killed mid-POST');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rescuer?.close();
      await receiver.close();
      await endpoint.close();
    }
  });
});
