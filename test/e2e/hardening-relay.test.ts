import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { Wire } from '../smtp/harness.ts';

// mxpost is never an open relay: it accepts a recipient only as one of a
// route's, delivers it only to that route's endpoint, and sends no mail at all.
// These are the address forms that have made other servers relay.
describe('not an open relay', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    mxpost = await startMxpost({
      redisUrl: redis.url,
      routes: `domains:\n  example.test:\n    url: ${endpoint.url('/catch-all')}\n    recipients: ["*"]\n  tickets.test:\n    url: ${endpoint.url('/tickets')}\n    recipients: [support]\n`,
    });
  });
  after(async () => {
    await mxpost?.close();
    await endpoint?.close();
    await redis?.dispose();
  });

  /** RCPT for each address in one transaction; returns "code enhanced" per address and the 250 to DATA, if any. */
  async function rcpt(addresses: string[], subject: string) {
    const wire = await Wire.open(mxpost.smtpPort);
    await wire.send('EHLO client.sender.test');
    await wire.send('MAIL FROM:<alice@sender.test>');
    const answers: string[] = [];
    for (const address of addresses) {
      const reply = await wire.send(`RCPT TO:${address}`);
      answers.push(`${reply!.code} ${/^\d\.\d\.\d+/.exec(reply!.text)?.[0] ?? ''}`.trim());
    }
    if (answers.some((a) => a.startsWith('250'))) {
      await wire.send('DATA');
      assert.equal((await wire.send(`${testMessage({ subject })}\r\n.`))?.code, 250);
    }
    wire.close();
    return answers;
  }

  const deliveries = (subject: string) => endpoint.requests.filter((r) => r.json?.message?.subject === subject).map((r) => ({ path: r.path, rcptTo: r.json.envelope.rcptTo }));

  test('refuses every domain it has no route for, even through one of its own', async () => {
    assert.deepEqual(
      await rcpt(['<user@elsewhere.test>', '<@example.test:user@elsewhere.test>', '<@example.test,@tickets.test:user@elsewhere.test>', '<user@sub.example.test>'], 'never'),
      ['550 5.1.1', '550 5.1.1', '550 5.1.1', '550 5.1.1'],
    );
  });

  test('ignores a source route and delivers to the final address’s own route (RFC 5321 appendix C)', async () => {
    assert.deepEqual(await rcpt(['<@relay.elsewhere.test:routed@example.test>'], 'source route'), ['250 2.1.5']);
    await waitUntil(() => deliveries('source route').length === 1);
    assert.deepEqual(deliveries('source route'), [{ path: '/catch-all', rcptTo: ['routed@example.test'] }]);
  });

  test('treats the percent hack and bang paths as plain local parts of the route’s own domain', async () => {
    assert.deepEqual(
      await rcpt(['<user%elsewhere.test@example.test>', '<elsewhere.test!user@example.test>', '<support%elsewhere.test@tickets.test>', '<elsewhere.test!support@tickets.test>'], 'percent'),
      ['250 2.1.5', '250 2.1.5', '550 5.1.1', '550 5.1.1'],
    );
    await waitUntil(() => deliveries('percent').length === 1);
    assert.deepEqual(deliveries('percent'), [{ path: '/catch-all', rcptTo: ['user%elsewhere.test@example.test', 'elsewhere.test!user@example.test'] }]);
  });

  test('matches a quoted local part by its unquoted text, and refuses quoted forms that hide another address', async () => {
    assert.deepEqual(
      await rcpt(['<"Support+77"@tickets.test>', '<"support"@tickets.test>', '<"billing"@tickets.test>', '<"user@elsewhere.test"@example.test>', '<"john doe"@example.test>'], 'quoted'),
      ['250 2.1.5', '250 2.1.5', '550 5.1.1', '501 5.1.3', '501 5.1.3'],
    );
    await waitUntil(() => deliveries('quoted').length === 1);
    const [delivery] = endpoint.requests.filter((r) => r.json?.message?.subject === 'quoted');
    assert.equal(delivery!.path, '/tickets');
    assert.equal(delivery!.json.route.tag, '77', 'the tag of the first recipient, read inside the quotes');
    assert.equal(delivery!.json.envelope.rcptTo.length, 2);
  });

  test('refuses address literals, which no route can name, with 553 5.1.3', async () => {
    assert.deepEqual(await rcpt(['<root@[127.0.0.1]>', '<root@[IPv6:::1]>', '<postmaster>'], 'literal'), ['553 5.1.3', '553 5.1.3', '553 5.1.3']);
  });

  test('refuses addresses with leading, trailing or doubled dots as syntax errors (501 5.1.3)', async () => {
    assert.deepEqual(
      await rcpt(['<user@example.test.>', '<user.@example.test>', '<.user@example.test>', '<us..er@example.test>', '<user@example..test>'], 'dots'),
      ['501 5.1.3', '501 5.1.3', '501 5.1.3', '501 5.1.3', '501 5.1.3'],
    );
  });

  test('every delivery went to the route of its own recipients, and to nothing else', () => {
    for (const request of endpoint.requests) {
      const domains = new Set((request.json.envelope.rcptTo as string[]).map((r) => r.slice(r.lastIndexOf('@') + 1).toLowerCase()));
      assert.deepEqual([...domains], [request.path === '/tickets' ? 'tickets.test' : 'example.test']);
    }
  });
});
