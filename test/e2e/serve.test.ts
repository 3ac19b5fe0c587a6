import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { newSecret } from '../../src/delivery/sign.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';

// The whole service in one process: real Redis, real SMTP client, real HTTP endpoint.
describe('mxpost serve, end to end', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { EXAMPLE_TEST_WEBHOOK_SECRET: newSecret() },
      routes: `
domains:
  example.test:
    url: ${endpoint.url('/inbound')}
    secret: env:EXAMPLE_TEST_WEBHOOK_SECRET
    recipients: ["*"]
  tickets.test:
    url: ${endpoint.url('/tickets')}
    recipients: [support, billing]
    addresses:
      billing: { url: ${endpoint.url('/billing')} }
  bücher.test:
    url: ${endpoint.url('/buecher')}
    recipients: [info]
`,
    });
  });

  after(async () => {
    await mxpost?.close();
    await endpoint?.close();
    await redis?.dispose();
  });

  const deliveriesTo = (path: string) => endpoint.requests.filter((r) => r.path === path);

  test('delivers a catch-all message with the envelope, route and message fields', async () => {
    const before = endpoint.requests.length;
    const result = await sendMail(mxpost.smtpPort, {
      from: 'alice@sender.test',
      to: ['anyone+order-77@Example.TEST'],
      message: testMessage({ to: 'anyone@example.test', subject: 'Catch-all check', body: 'Body text here.' }),
    });
    assert.equal(result.rcpt[0]!.code, 250);
    assert.equal(result.data?.code, 250);
    const queueId = /queued as (\S+)/.exec(result.data!.text)?.[1];
    assert.ok(queueId, `250 reply names the queue id: ${result.data!.text}`);

    const [request] = (await endpoint.waitFor(before + 1)).slice(before);
    assert.equal(request!.path, '/inbound');
    assert.equal(request!.headers['content-type'], 'application/json');
    const payload = request!.json;
    assert.equal(payload.id, `${queueId}-1`);
    assert.equal(request!.headers['webhook-id'], payload.id);
    assert.ok(Math.abs(Date.parse(payload.receivedAt) - Date.now()) < 60_000);
    assert.deepEqual(payload.envelope, {
      mailFrom: 'alice@sender.test',
      rcptTo: ['anyone+order-77@Example.TEST'],
      remoteAddress: '127.0.0.1',
      remotePort: payload.envelope.remotePort,
      helo: 'client.sender.test',
      tls: null,
      smtpUtf8: false,
      eightBitMime: false,
    });
    assert.deepEqual(payload.route, { domain: 'example.test', recipient: 'anyone+order-77@Example.TEST', tag: 'order-77' });
    assert.equal(payload.message.subject, 'Catch-all check');
    assert.deepEqual(payload.message.from, [{ name: 'Alice Example', address: 'alice@sender.test' }]);
    assert.deepEqual(payload.message.to, [{ name: '', address: 'anyone@example.test' }]);
    assert.equal(payload.message.text.trim(), 'Body text here.');
    assert.ok(payload.message.headers.some((h: { name: string }) => h.name.toLowerCase() === 'message-id'));
  });

  test('sends a per-address override to its own endpoint and the rest of the domain to the domain endpoint', async () => {
    const result = await sendMail(mxpost.smtpPort, {
      from: 'bob@sender.test',
      to: ['billing@tickets.test'],
      message: testMessage({ subject: 'Invoice 12' }),
    });
    assert.equal(result.data?.code, 250);
    await waitUntil(() => deliveriesTo('/billing').some((r) => r.json.message.subject === 'Invoice 12'));
    assert.equal(deliveriesTo('/tickets').filter((r) => r.json.message.subject === 'Invoice 12').length, 0);
  });

  test('splits one transaction across two routes into two deliveries, each with only its own recipients', async () => {
    const result = await sendMail(mxpost.smtpPort, {
      from: 'carol@sender.test',
      to: ['support@tickets.test', 'sales@example.test', 'SUPPORT+5@tickets.test', 'billing@tickets.test'],
      message: testMessage({ subject: 'Two routes' }),
    });
    assert.deepEqual(result.rcpt.map((r) => r.code), [250, 250, 250, 250]);
    assert.equal(result.data?.code, 250);
    const mine = () => endpoint.requests.filter((r) => r.json?.message.subject === 'Two routes');
    await waitUntil(() => mine().length === 3);
    const byPath = Object.fromEntries(mine().map((r) => [r.path, r.json]));
    assert.deepEqual(byPath['/tickets'].envelope.rcptTo, ['support@tickets.test', 'SUPPORT+5@tickets.test']);
    assert.deepEqual(byPath['/inbound'].envelope.rcptTo, ['sales@example.test']);
    assert.deepEqual(byPath['/billing'].envelope.rcptTo, ['billing@tickets.test']);
    // Stored once: one copy of the message in Redis for the three deliveries.
    const queueId = (mine()[0]!.json.id as string).replace(/-\d+$/, '');
    const client = new Redis(redis.url);
    try {
      assert.deepEqual(await client.keys(`${mxpost.prefix}:content:*`).then((keys) => keys.filter((k) => k.endsWith(queueId))), [`${mxpost.prefix}:content:${queueId}`]);
      for (const id of mine().map((r) => r.json.id as string)) {
        const data = await client.hget(`${mxpost.prefix}:deliveries:${id}`, 'data');
        assert.ok(data && !data.includes('"headers"'), `job ${id} holds only its own part`);
      }
    } finally {
      client.disconnect();
    }
    const ids = mine().map((r) => r.json.id as string);
    assert.equal(new Set(ids).size, 3, 'each delivery has its own id');
    assert.equal(new Set(ids.map((id) => id.replace(/-\d+$/, ''))).size, 1, 'all belong to one queue id');
  });

  test('refuses an unconfigured domain and an address the domain does not accept with 550 5.1.1 at RCPT', async () => {
    const result = await sendMail(mxpost.smtpPort, {
      from: 'dave@sender.test',
      to: ['someone@elsewhere.test', 'nobody@tickets.test', 'support@sub.tickets.test', 'root@[127.0.0.1]'],
      message: testMessage(),
    });
    for (const reply of result.rcpt.slice(0, 3)) {
      assert.equal(reply.code, 550);
      assert.match(reply.text, /^5\.1\.1 /);
    }
    assert.equal(result.rcpt[3]!.code, 553);
    assert.equal(result.data, null, 'no DATA without an accepted recipient');
  });

  test('matches an IDN domain in its Unicode and xn-- forms, case-insensitively', async () => {
    const result = await sendMail(mxpost.smtpPort, {
      from: 'erin@sender.test',
      to: ['info@bücher.test', 'INFO@XN--BCHER-KVA.TEST'],
      message: testMessage({ subject: 'IDN' }),
    });
    assert.deepEqual(result.rcpt.map((r) => r.code), [250, 250]);
    assert.equal(result.data?.code, 250);
    await waitUntil(() => deliveriesTo('/buecher').some((r) => r.json.message.subject === 'IDN'));
    const delivery = deliveriesTo('/buecher').find((r) => r.json.message.subject === 'IDN')!;
    assert.equal(delivery.json.route.domain, 'xn--bcher-kva.test');
    assert.equal(delivery.json.envelope.rcptTo.length, 2);
  });
});

