import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newSecret } from '../../src/delivery/sign.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';

// Recipient callbacks through the whole service: real SMTP in, a real HTTP
// callback asked at RCPT, real Redis behind.
describe('recipient callback', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.dispose();
  });

  async function setup(plan: Parameters<typeof startEndpoint>[0], callback: string[] = []) {
    const webhook = await startEndpoint();
    const app = await startEndpoint(plan, { onInvalidPayload: () => undefined });
    const secret = newSecret();
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { SECRET: secret },
      routes: [
        'domains:',
        '  d.test:',
        `    url: ${webhook.url()}`,
        '    secret: env:SECRET',
        '    recipients: ["*"]',
        '    callback:',
        `      url: ${app.url('/recipients')}`,
        ...callback.map((line) => `      ${line}`),
        '',
      ].join('\n'),
    });
    const send = (to: string[]) => sendMail(mxpost.smtpPort, { from: 'a@sender.test', to, message: testMessage() });
    const close = async () => {
      await mxpost.close();
      await Promise.all([webhook.close(), app.close()]);
    };
    return { webhook, app, send, close };
  }

  test('a recipient the application answers 2xx for is accepted and delivered', async () => {
    const { webhook, app, send, close } = await setup([200]);
    try {
      const result = await send(['jane@d.test']);
      assert.equal(result.rcpt[0]!.code, 250);
      assert.equal(result.data!.code, 250);
      assert.equal(app.requests[0]!.json.recipient, 'jane@d.test');
      const [delivery] = await webhook.waitFor(1);
      assert.deepEqual(delivery!.json.envelope.rcptTo, ['jane@d.test']);
    } finally {
      await close();
    }
  });

  test('404 or 410 from the application refuses the recipient in the session with 550 5.1.1, and nothing is delivered', async () => {
    const { webhook, send, close } = await setup([404, 410, 200]);
    try {
      const result = await send(['gone@d.test', 'left@d.test', 'jane@d.test']);
      assert.deepEqual(result.rcpt.map((r) => r.code), [550, 550, 250]);
      assert.match(result.rcpt[0]!.text, /^5\.1\.1 /);
      const [delivery] = await webhook.waitFor(1);
      assert.deepEqual(delivery!.json.envelope.rcptTo, ['jane@d.test']);
    } finally {
      await close();
    }
  });

  test('a 5xx or a timeout from the application gives 451 4.3.0, so the sender retries', async () => {
    const { send, close } = await setup([503, { hang: true }], ['timeout: 300ms']);
    try {
      const result = await send(['a@d.test', 'b@d.test']);
      assert.deepEqual(result.rcpt.map((r) => r.code), [451, 451]);
      for (const reply of result.rcpt) assert.match(reply.text, /^4\.3\.0 /);
      assert.equal(result.data, null);
    } finally {
      await close();
    }
  });

  test('with onError: accept, a failing application does not hold mail back', async () => {
    const { webhook, send, close } = await setup([500], ['onError: accept']);
    try {
      const result = await send(['jane@d.test']);
      assert.equal(result.rcpt[0]!.code, 250);
      assert.equal(result.data!.code, 250);
      await webhook.waitFor(1);
    } finally {
      await close();
    }
  });

  test('an answer is cached for the configured time: the next RCPT for the address does not ask again', async () => {
    const { app, send, close } = await setup([404], ['cache: 1m']);
    try {
      const first = await send(['gone@d.test']);
      const second = await send(['GONE@d.test']);
      assert.deepEqual([first.rcpt[0]!.code, second.rcpt[0]!.code], [550, 550]);
      assert.equal(app.requests.length, 1);
    } finally {
      await close();
    }
  });
});
