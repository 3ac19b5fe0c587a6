import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { newSecret } from '../../src/delivery/sign.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';

const TOKEN = 'test-admin-token-0123456789';

// The delivery engine through the whole service: real SMTP in, real HTTP out.
describe('webhook delivery', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.dispose();
  });

  /** One mxpost with one domain `d.test` whose route is `extra` (YAML lines) plus the URL. */
  async function setup(options: { plan?: Parameters<typeof startEndpoint>[0]; route?: string[]; env?: Record<string, string> } = {}) {
    const endpoint = await startEndpoint(options.plan);
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { MXPOST_ADMIN_TOKEN: TOKEN, ...options.env },
      routes: ['domains:', '  d.test:', `    url: ${endpoint.url()}`, '    recipients: ["*"]', ...(options.route ?? []).map((l) => `    ${l}`), ''].join('\n'),
    });
    const admin = async (method: string, path: string, token = TOKEN) => {
      const res = await fetch(`http://127.0.0.1:${mxpost.http.port}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const send = async (subject: string) => {
      const result = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@d.test'], message: testMessage({ subject }) });
      assert.equal(result.data?.code, 250);
      return `${/queued as (\S+)/.exec(result.data!.text)![1]}-1`;
    };
    const close = async () => {
      await mxpost.close();
      await endpoint.close();
    };
    return { endpoint, mxpost, admin, send, close };
  }

  test('signs every request per Standard Webhooks with each secret during a rotation, verifiable by an independent library', async () => {
    const [current, previous] = [newSecret(), newSecret()];
    const { endpoint, send, close } = await setup({ route: ['secret: [env:CURRENT, env:PREVIOUS]'], env: { CURRENT: current, PREVIOUS: previous } });
    try {
      const id = await send('signed');
      const [request] = await endpoint.waitFor(1);
      assert.equal(request!.headers['webhook-id'], id);
      for (const secret of [current, previous]) {
        const verified = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>);
        assert.equal((verified as { id: string }).id, id);
      }
      assert.throws(() => new Webhook(current).verify(request!.body.replace('signed', 'Signed'), request!.headers as Record<string, string>), /No matching signature/);
      assert.throws(() => new Webhook(newSecret()).verify(request!.body, request!.headers as Record<string, string>), /No matching signature/);
    } finally {
      await close();
    }
  });

  test('dead-letters 410 Gone at once, readable through the admin API until the retention ends, and replayable by route', async () => {
    const { endpoint, mxpost, admin, send, close } = await setup({ plan: [{ status: 410 }], env: { MXPOST_RETENTION: '1h' } });
    try {
      const id = await send('gone');
      const view = await waitForState(admin, id, 'dead-letter');
      assert.match(view.reason, /^HTTP 410/);
      assert.equal(view.attempts.length, 1);
      assert.equal(view.attempts[0].status, 410);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(endpoint.requests.length, 1, 'no second attempt until replayed');
      const list = await admin('GET', '/v1/dead-letters?route=d.test');
      assert.deepEqual(list.body.deadLetters.map((d: { id: string }) => d.id), [id]);
      assert.deepEqual((await admin('GET', '/v1/dead-letters?route=other.test')).body.deadLetters, []);

      // Records expire after MXPOST_RETENTION (1h in this test).
      const redisClient = new Redis(redis.url);
      const ttl = await redisClient.pttl(`${mxpost.prefix}:attempts:${id}`);
      redisClient.disconnect();
      assert.ok(ttl > 3500_000 && ttl <= 3600_000, `attempt records expire in ${ttl} ms`);

      assert.equal((await admin('POST', '/v1/dead-letters/replay')).status, 400, 'replaying everything needs all=true');
      assert.deepEqual((await admin('POST', '/v1/dead-letters/replay?route=d.test')).body, { replayed: [id] });
      await endpoint.waitFor(2);
      assert.equal(endpoint.requests[1]!.headers['webhook-id'], id);
    } finally {
      await close();
    }
  });

  test('dead-letters a status the route lists as permanent, and retries another 4xx only as often as the route says', async () => {
    const { endpoint, admin, send, close } = await setup({ plan: [422, 404, 404, 404], route: ['permanent: [422]', 'retry: { clientErrors: 2 }'] });
    try {
      const first = await send('unprocessable');
      await waitForState(admin, first, 'dead-letter');
      const second = await send('not found');
      const view = await waitForState(admin, second, 'dead-letter');
      assert.deepEqual(view.attempts.map((a: { status: number }) => a.status), [404, 404]);
      assert.equal(endpoint.requests.length, 3);
    } finally {
      await close();
    }
  });

  test('honours Retry-After on 429 before the next attempt', async () => {
    const { endpoint, send, close } = await setup({ plan: [{ status: 429, headers: { 'retry-after': '1' } }] });
    try {
      await send('slow down');
      const requests = await endpoint.waitFor(2);
      assert.ok(requests[1]!.at - requests[0]!.at >= 950, `waited ${requests[1]!.at - requests[0]!.at} ms`);
    } finally {
      await close();
    }
  });

  test('gives up on a request at the timeout and retries it', async () => {
    const { endpoint, admin, send, close } = await setup({ plan: [{ hang: true }], env: { MXPOST_DELIVERY_TIMEOUT_MS: '300' } });
    try {
      const id = await send('hanging');
      const view = await waitForState(admin, id, 'completed');
      assert.match(view.attempts[0].reason, /^timeout/);
      assert.ok(view.attempts[0].durationMs >= 250 && view.attempts[0].durationMs < 2000, `${view.attempts[0].durationMs} ms`);
      assert.equal(view.attempts[1].outcome, 'delivered');
      assert.equal(endpoint.requests.length, 2);
    } finally {
      await close();
    }
  });

  test('does not follow a redirect and records it as a failure with the target', async () => {
    const { endpoint, admin, send, close } = await setup({ plan: [{ status: 302, headers: { location: '/elsewhere' } }] });
    try {
      const id = await send('moved');
      const view = await waitForState(admin, id, 'completed');
      assert.match(view.attempts[0].reason, /302 redirect to \/elsewhere: redirects are not followed/);
      assert.equal(endpoint.requests.filter((r) => r.path === '/elsewhere').length, 0);
    } finally {
      await close();
    }
  });

  test('dead-letters when the retry window is spent, then a replay delivers it with the same webhook-id', async () => {
    // Shorter than the five failures in a row that would open the endpoint's circuit.
    const { endpoint, admin, send, close } = await setup({ route: ['retry: { window: 400ms }'] });
    endpoint.setFallback(503);
    try {
      const id = await send('window');
      const view = await waitForState(admin, id, 'dead-letter');
      assert.match(view.reason, /^retry window spent; last attempt: HTTP 503/);
      assert.ok(view.attempts.length >= 2, `${view.attempts.length} attempts in the window`);
      assert.equal(view.attempts.at(-1).outcome, 'dead-letter');

      assert.equal((await admin('POST', `/v1/dead-letters/${id}/replay`, 'wrong-token-wrong-token')).status, 401);
      endpoint.setFallback(200);
      const before = endpoint.requests.length;
      assert.deepEqual((await admin('POST', `/v1/dead-letters/${id}/replay`)).body, { replayed: [id] });
      await waitForState(admin, id, 'completed');
      const replayed = endpoint.requests.slice(before);
      assert.equal(replayed.length, 1);
      assert.equal(replayed[0]!.headers['webhook-id'], id);
      assert.equal((await admin('POST', `/v1/dead-letters/${id}/replay`)).status, 404, 'no longer a dead letter');
    } finally {
      await close();
    }
  });

  test('refuses an endpoint on a private address when the route forbids it, and never connects', async () => {
    const { endpoint, admin, send, close } = await setup({ route: ['allowPrivate: false'] });
    try {
      const id = await send('private');
      const view = await waitForState(admin, id, 'dead-letter');
      assert.match(view.reason, /127\.0\.0\.1 \(loopback\), which this route does not allow/);
      assert.equal(endpoint.requests.length, 0);
    } finally {
      await close();
    }
  });

  test('checks the address actually connected to when the endpoint is named, not only IP literals', async () => {
    const endpoint = await startEndpoint();
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { MXPOST_ADMIN_TOKEN: TOKEN, MXPOST_ALLOW_PRIVATE_ENDPOINTS: 'false' },
      routes: `domains:\n  d.test:\n    url: http://localhost:${endpoint.port}/inbound\n    recipients: ["*"]\n`,
    });
    try {
      const result = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@d.test'], message: testMessage() });
      const id = `${/queued as (\S+)/.exec(result.data!.text)![1]}-1`;
      const admin = async (method: string, path: string) => {
        const res = await fetch(`http://127.0.0.1:${mxpost.http.port}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
        return { status: res.status, body: (await res.json()) as any };
      };
      const view = await waitForState(admin, id, 'dead-letter');
      assert.match(view.reason, /endpoint localhost is at (127\.0\.0\.1|::1) \(loopback\)/);
      assert.equal(endpoint.requests.length, 0);
    } finally {
      await mxpost.close();
      await endpoint.close();
    }
  });

  test('the admin API is off without a token and refuses requests without the right one', async () => {
    const endpoint = await startEndpoint();
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: `domains:\n  d.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n` });
    try {
      const off = await fetch(`http://127.0.0.1:${mxpost.http.port}/v1/dead-letters`, { headers: { authorization: 'Bearer ' } });
      assert.equal(off.status, 404);
    } finally {
      await mxpost.close();
      await endpoint.close();
    }
    const { admin, close } = await setup();
    try {
      assert.equal((await admin('GET', '/v1/dead-letters', 'not-the-token-at-all-0000')).status, 401);
      assert.equal((await admin('GET', '/v1/dead-letters')).status, 200);
    } finally {
      await close();
    }
  });
});

type Admin = (method: string, path: string) => Promise<{ status: number; body: any }>;

/** Polls the admin API until the delivery reaches `state`; returns its view. */
async function waitForState(admin: Admin, id: string, state: string, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await admin('GET', `/v1/deliveries/${id}`);
    if (body.state === state) return body;
    if (Date.now() > deadline) throw new Error(`delivery ${id} is ${body.state}, not ${state}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
