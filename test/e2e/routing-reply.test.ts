import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRoutes, RoutesError } from '../../src/config/routes.ts';
import { newSecret } from '../../src/delivery/sign.ts';
import { mintReplyAddress, verifyReplyToken } from '../../src/routing/reply-address.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';

const BIN = new URL('../../bin/mxpost', import.meta.url).pathname;
const DAY = 86_400_000;

// Signed reply addresses through the whole service: real SMTP, Redis and webhook.
describe('signed reply addresses', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.dispose();
  });

  async function setup(replyTokens: string[]) {
    const webhook = await startEndpoint();
    const secret = newSecret();
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { SECRET: secret },
      routes: ['domains:', '  d.test:', `    url: ${webhook.url()}`, '    secret: env:SECRET', '    recipients: [support]', '    replyTokens:', ...replyTokens.map((l) => `      ${l}`), ''].join('\n'),
    });
    const send = (to: string) => sendMail(mxpost.smtpPort, { from: 'customer@sender.test', to: [to], message: testMessage() });
    const close = async () => {
      await mxpost.close();
      await webhook.close();
    };
    return { webhook, secret, send, close };
  }

  test('mail to a genuine reply address is accepted, and its payload says the token is valid and carries the id', async () => {
    const { webhook, secret, send, close } = await setup(['require: true']);
    try {
      const address = mintReplyAddress({ domain: 'd.test', id: '4821', secret, ttlMs: 30 * DAY });
      // Some MTAs upper-case local parts on the way.
      const result = await send(address.toUpperCase().replace('@D.TEST', '@d.test'));
      assert.equal(result.rcpt[0]!.code, 250);
      assert.equal(result.data!.code, 250);
      const [delivery] = await webhook.waitFor(1);
      const token = delivery!.json.route.replyToken;
      assert.equal(token.valid, true);
      assert.equal(token.id, '4821');
      assert.equal(token.reason, null);
      assert.ok(Date.parse(token.expiresAt) > Date.now() + 29 * DAY);
    } finally {
      await close();
    }
  });

  test('with require: true, forged, malformed and expired reply addresses are refused at RCPT with 550 5.7.1', async () => {
    const { secret, send, close } = await setup(['require: true']);
    try {
      const forged = mintReplyAddress({ domain: 'd.test', id: '4821', secret: newSecret(), ttlMs: DAY });
      const expired = mintReplyAddress({ domain: 'd.test', id: '4821', secret, ttlMs: DAY, now: Date.now() - 2 * DAY });
      for (const address of [forged, expired, 'reply+nonsense@d.test', 'reply@d.test']) {
        const result = await send(address);
        assert.equal(result.rcpt[0]!.code, 550, address);
        assert.match(result.rcpt[0]!.text, /^5\.7\.1 /);
      }
      assert.match((await send(expired)).rcpt[0]!.text, /expired/);
    } finally {
      await close();
    }
  });

  test('without require, a forged reply address is delivered with the token marked invalid and no id', async () => {
    const { webhook, send, close } = await setup(['require: false']);
    try {
      const forged = mintReplyAddress({ domain: 'd.test', id: '4821', secret: newSecret(), ttlMs: DAY });
      assert.equal((await send(forged)).data!.code, 250);
      const [delivery] = await webhook.waitFor(1);
      assert.deepEqual(delivery!.json.route.replyToken, { valid: false, id: null, expiresAt: null, reason: 'forged' });
    } finally {
      await close();
    }
  });

  test('mail to an ordinary recipient carries no replyToken', async () => {
    const { webhook, send, close } = await setup(['require: true']);
    try {
      assert.equal((await send('support@d.test')).data!.code, 250);
      const [delivery] = await webhook.waitFor(1);
      assert.equal('replyToken' in delivery!.json.route, false);
    } finally {
      await close();
    }
  });
});

test('mxpost reply-address prints an address signed with the route newest secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpost-reply-'));
  const secret = newSecret();
  writeFileSync(join(dir, 'routes.yaml'), 'domains:\n  d.test:\n    url: http://127.0.0.1:9000/in\n    secret: env:SECRET\n    recipients: ["*"]\n    replyTokens: { localPart: answer }\n');
  const env = { ...process.env, SECRET: secret };
  const result = spawnSync(BIN, ['reply-address', '--routes', join(dir, 'routes.yaml'), '--domain', 'D.test', '--id', '4821', '--ttl', '7d'], { encoding: 'utf8', env });
  assert.equal(result.status, 0, result.stderr);
  const [, token] = /^answer\+([a-z2-7]+)@d\.test\n$/.exec(result.stdout)!;
  const verdict = verifyReplyToken({ token: token!, domain: 'd.test', secrets: [secret] });
  assert.equal(verdict.valid, true);
  assert.equal(verdict.id, '4821');
  const unknown = spawnSync(BIN, ['reply-address', '--routes', join(dir, 'routes.yaml'), '--domain', 'other.test', '--id', '1'], { encoding: 'utf8', env });
  assert.equal(unknown.status, 78);
  assert.match(unknown.stderr, /other\.test is not a domain/);
});

test('a route with replyTokens but no secret is refused, naming the line', () => {
  const text = 'domains:\n  d.test:\n    url: http://127.0.0.1:9000/in\n    recipients: ["*"]\n    replyTokens: { require: true }\n';
  assert.throws(
    () => parseRoutes(text, { source: 'routes.yaml', env: {} }),
    (err: unknown) => err instanceof RoutesError && /replyTokens.*needs the route to have a secret/.test(err.message),
  );
});
