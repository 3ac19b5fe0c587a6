import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authSchema } from '../../src/auth/schema.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { makeKey, message, sign } from './signing.ts';

// The whole service: real SMTP from 127.0.0.1, real Redis, a real webhook
// endpoint, and MXPOST_DNS_SERVERS pointing at a DNS server on loopback.
describe('auth policy in the SMTP session', () => {
  const bank = makeKey('bank.test', 'k1');
  const spfFor = (ip: string) => `v=spf1 ip4:${ip} -all`;
  let dns: DnsServer;
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;

  before(async () => {
    dns = await startDnsServer({
      ...bank.zone,
      'bank.test': [{ TXT: spfFor('127.0.0.1') }],
      '_dmarc.bank.test': [{ TXT: 'v=DMARC1; p=reject' }],
      'reject.test': [{ TXT: spfFor('192.0.2.1') }],
      '_dmarc.reject.test': [{ TXT: 'v=DMARC1; p=reject' }],
      'quarantine.test': [{ TXT: spfFor('192.0.2.1') }],
      '_dmarc.quarantine.test': [{ TXT: 'v=DMARC1; p=quarantine' }],
      'none.test': [{ TXT: spfFor('192.0.2.1') }],
      '_dmarc.none.test': [{ TXT: 'v=DMARC1; p=none' }],
      'slow.test': [{ TXT: spfFor('192.0.2.1') }],
      '_dmarc.slow.test': ['TIMEOUT'],
      'open.test': [{ TXT: 'v=spf1 ?all' }],
    });
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { MXPOST_DNS_SERVERS: dns.address, MXPOST_AUTHSERV_ID: 'mx.receiver.test', MXPOST_DNS_TIMEOUT_MS: '1000' },
      routes: `
domains:
  monitor.test:
    url: ${endpoint.url('/monitor')}
    recipients: ["*"]
  enforce.test:
    url: ${endpoint.url('/enforce')}
    recipients: ["*"]
    auth: { dmarc: enforce }
  strict.test:
    url: ${endpoint.url('/strict')}
    recipients: ["*"]
    auth: { spf: reject, requireDkim: [bank.test] }
`,
    });
    // The first message of a process pays for compiling the code paths; not measured.
    await sendMail(mxpost.smtpPort, { from: 'b@open.test', to: ['x@monitor.test'], message: message({ from: 'a@open.test', subject: 'Warm-up' }) });
  });

  after(async () => {
    await mxpost?.close();
    await endpoint?.close();
    await redis?.dispose();
    await dns?.stop();
  });

  /** Sends one message and returns the reply to the final dot. */
  async function send(options: { from: string; mailFrom: string; to: string[]; subject: string; signed?: boolean; headers?: string[] }) {
    const raw = message({ from: options.from, subject: options.subject, ...(options.headers ? { headers: options.headers } : {}) });
    const body = options.signed ? (await sign(raw, bank)).toString() : raw;
    const result = await sendMail(mxpost.smtpPort, { from: options.mailFrom, to: options.to, message: body });
    assert.ok(result.data, 'DATA was reached');
    return result.data;
  }

  /** The deliveries of the message with this subject, once there is one. */
  const delivered = async (subject: string) => {
    const found = () => endpoint.requests.filter((r) => r.json?.message?.subject === subject);
    await waitUntil(() => found().length > 0);
    return found();
  };

  test('every delivery carries the verdicts and our Authentication-Results; a forged one claiming our authserv-id is removed', async () => {
    const reply = await send({
      from: 'Bank <alerts@bank.test>',
      mailFrom: 'bounce@bank.test',
      to: ['x@monitor.test'],
      subject: 'Verdicts',
      signed: true,
      headers: ['Authentication-Results: mx.receiver.test; dkim=pass header.d=paypal.test; dmarc=pass', 'Authentication-Results: mx.upstream.test; spf=pass'],
    });
    assert.equal(reply.code, 250);
    const [request] = await delivered('Verdicts');
    const auth = authSchema.parse(request!.json.auth);
    assert.deepEqual([auth.spf.result, auth.dkim[0]?.result, auth.dmarc.result, auth.arc.result, auth.quarantined], ['pass', 'pass', 'pass', 'none', false]);
    assert.match(auth.authenticationResults, /^mx\.receiver\.test;\r\n\tdkim=pass header\.d=bank\.test/);
    const results = request!.json.message.headers.filter((h: { name: string }) => h.name.toLowerCase() === 'authentication-results').map((h: { value: string }) => h.value);
    assert.deepEqual(results, ['mx.upstream.test; spf=pass'], 'the forged field is gone, the upstream one kept');
  });

  test('dmarc: enforce refuses a DMARC fail under p=reject at the end of DATA: 550 5.7.1 with the reason', async () => {
    const reply = await send({ from: 'a@reject.test', mailFrom: 'bounce@reject.test', to: ['x@enforce.test'], subject: 'Spoofed' });
    assert.equal(reply.code, 550);
    assert.match(reply.text, /^5\.7\.1 Message rejected: reject\.test publishes DMARC p=reject and this message fails it: SPF fail for reject\.test, no DKIM signature$/);
  });

  test('without a policy, the same message is delivered with its failing verdict', async () => {
    const reply = await send({ from: 'a@reject.test', mailFrom: 'bounce@reject.test', to: ['x@monitor.test'], subject: 'Spoofed, monitored' });
    assert.equal(reply.code, 250);
    const [request] = await delivered('Spoofed, monitored');
    assert.deepEqual([request!.json.auth.dmarc.result, request!.json.auth.dmarc.appliedPolicy, request!.json.auth.quarantined], ['fail', 'reject', false]);
  });

  test('dmarc: enforce delivers a fail under p=quarantine marked quarantined, and under p=none unmarked', async () => {
    assert.equal((await send({ from: 'a@quarantine.test', mailFrom: 'b@quarantine.test', to: ['x@enforce.test'], subject: 'Quarantine' })).code, 250);
    assert.equal((await send({ from: 'a@none.test', mailFrom: 'b@none.test', to: ['x@enforce.test'], subject: 'None' })).code, 250);
    const [quarantined] = await delivered('Quarantine');
    const [none] = await delivered('None');
    assert.deepEqual([quarantined!.json.auth.dmarc.result, quarantined!.json.auth.quarantined], ['fail', true]);
    assert.deepEqual([none!.json.auth.dmarc.result, none!.json.auth.quarantined], ['fail', false]);
  });

  test('a DNS timeout while dmarc: enforce needs the verdict: 451 4.7.1 within the deadline, never 5xx', async () => {
    const started = Date.now();
    const reply = await send({ from: 'a@slow.test', mailFrom: 'b@slow.test', to: ['x@enforce.test'], subject: 'Slow DNS' });
    assert.equal(reply.code, 451);
    assert.match(reply.text, /^4\.7\.1 Authentication incomplete, try again later: DMARC check for slow\.test failed temporarily/);
    assert.ok(Date.now() - started < 7000, 'the reply came within the auth deadline (5 s), not whenever DNS answers');
  });

  test('the same DNS timeout without a policy: delivered, DMARC temperror', async () => {
    assert.equal((await send({ from: 'a@slow.test', mailFrom: 'b@slow.test', to: ['x@monitor.test'], subject: 'Slow DNS, monitored' })).code, 250);
    const [request] = await delivered('Slow DNS, monitored');
    assert.equal(request!.json.auth.dmarc.result, 'temperror');
  });

  test('spf: reject refuses SPF fail with 550 5.7.23', async () => {
    const reply = await send({ from: 'a@reject.test', mailFrom: 'bounce@reject.test', to: ['x@strict.test'], subject: 'SPF fail' });
    assert.equal(reply.code, 550);
    assert.match(reply.text, /^5\.7\.23 Message rejected: SPF fail: reject\.test does not authorise this client/);
  });

  test('requireDkim refuses mail without a passing signature from the listed domain (550 5.7.20) and takes it with one', async () => {
    const unsigned = await send({ from: 'alerts@bank.test', mailFrom: 'bounce@bank.test', to: ['x@strict.test'], subject: 'Unsigned' });
    assert.equal(unsigned.code, 550);
    assert.match(unsigned.text, /^5\.7\.20 Message rejected: a valid DKIM signature from bank\.test is required: no DKIM signature$/);
    const signed = await send({ from: 'alerts@bank.test', mailFrom: 'bounce@bank.test', to: ['x@strict.test'], subject: 'Signed', signed: true });
    assert.equal(signed.code, 250);
    await delivered('Signed');
  });

  test('one transaction for an enforcing and a monitoring domain is refused whole, never delivered to one of them alone', async () => {
    const before = endpoint.requests.length;
    const reply = await send({ from: 'a@reject.test', mailFrom: 'bounce@reject.test', to: ['x@monitor.test', 'y@enforce.test'], subject: 'Split' });
    assert.equal(reply.code, 550);
    // Anything enqueued would have been delivered by the time this second message is.
    assert.equal((await send({ from: 'a@open.test', mailFrom: 'b@open.test', to: ['x@monitor.test'], subject: 'After split' })).code, 250);
    await delivered('After split');
    assert.equal(endpoint.requests.slice(before).filter((r) => r.json?.message?.subject === 'Split').length, 0);
  });
});
