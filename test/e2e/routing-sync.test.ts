import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { newSecret } from '../../src/delivery/sign.ts';
import { classifySync } from '../../src/routing/sync.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';

// Synchronous mode through the whole service: the reply to DATA is the endpoint's verdict.
describe('synchronous mode', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.dispose();
  });

  async function setup(plan: Parameters<typeof startEndpoint>[0]) {
    const endpoint = await startEndpoint(plan);
    const secret = newSecret();
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { SECRET: secret },
      routes: ['domains:', '  d.test:', `    url: ${endpoint.url()}`, '    secret: env:SECRET', '    recipients: ["*"]', '    sync: { timeout: 500ms }', ''].join('\n'),
    });
    const send = () => sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@d.test'], message: testMessage({ subject: 'sync' }) });
    /** Nothing was stored: no message content in Redis, and no later delivery by the worker. */
    const assertNothingQueued = async (requests: number) => {
      await sleep(600);
      assert.equal(endpoint.requests.length, requests);
      const client = new Redis(redis.url);
      try {
        assert.deepEqual(await client.keys(`${mxpost.prefix}:content:*`), []);
      } finally {
        client.disconnect();
      }
    };
    const close = async () => {
      await mxpost.close();
      await endpoint.close();
    };
    return { endpoint, secret, send, assertNothingQueued, close };
  }

  test('a 2xx from the endpoint gives 250, once, signed, and nothing is queued for the worker', async () => {
    const { endpoint, secret, send, assertNothingQueued, close } = await setup([200]);
    try {
      const result = await send();
      assert.equal(result.data!.code, 250);
      assert.equal(endpoint.requests.length, 1, 'the endpoint had answered before the 250');
      const [request] = endpoint.requests;
      const payload = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>) as { message: { subject: string } };
      assert.equal(payload.message.subject, 'sync');
      await assertNothingQueued(1);
    } finally {
      await close();
    }
  });

  test('a 4xx from the endpoint gives 550 5.7.1 with its text, and nothing is stored', async () => {
    const { send, assertNothingQueued, close } = await setup([422]);
    try {
      const result = await send();
      assert.equal(result.data!.code, 550);
      assert.match(result.data!.text, /^5\.7\.1 .*failing with 422/);
      await assertNothingQueued(1);
    } finally {
      await close();
    }
  });

  test('a 5xx from the endpoint gives 451 4.3.0, and nothing is stored', async () => {
    const { send, assertNothingQueued, close } = await setup([503]);
    try {
      const result = await send();
      assert.equal(result.data!.code, 451);
      assert.match(result.data!.text, /^4\.3\.0 /);
      await assertNothingQueued(1);
    } finally {
      await close();
    }
  });

  test('an endpoint slower than the route timeout gives 451 4.3.0, and nothing is stored', async () => {
    const { send, assertNothingQueued, close } = await setup([{ hang: true }]);
    try {
      const started = Date.now();
      const result = await send();
      assert.equal(result.data!.code, 451);
      assert.ok(Date.now() - started < 5000);
      await assertNothingQueued(1);
    } finally {
      await close();
    }
  });
});

test('408, 429 and redirects defer like a 5xx; other 4xx refuse with the endpoint text', () => {
  assert.equal(classifySync(204, '').kind, 'delivered');
  assert.equal(classifySync(408, '').kind, 'deferred');
  assert.equal(classifySync(429, '').kind, 'deferred');
  assert.equal(classifySync(302, '').kind, 'deferred');
  assert.deepEqual(classifySync(404, ''), { kind: 'refused', status: 404, text: 'HTTP 404' });
  assert.deepEqual(classifySync(400, ' no such ticket \n'), { kind: 'refused', status: 400, text: 'no such ticket' });
});

test('the endpoint text in a 550 is one printable line of bounded length', async () => {
  const { replies } = await import('../../src/smtp/replies.ts');
  const reply = replies.endpointRefused(`bad\r\n250 2.0.0 Ok\u0000${'x'.repeat(1000)}`);
  assert.equal(reply.responseCode, 550);
  assert.doesNotMatch(reply.message, /[\r\n\u0000]/);
  assert.ok(reply.message.length < 300);
});
