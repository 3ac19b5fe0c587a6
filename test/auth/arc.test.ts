import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { arc as mailauthArc, dkimVerify, type DNSResolver } from 'mailauth';
import { createResolver } from '../../src/auth/resolver.ts';
import { senderZone, startAuthHarness, type AuthHarness } from './harness.ts';
import { arcSeal, makeKey, message, sign } from './signing.ts';

// ARC: a mailing list forwards a DKIM-signed message, changing it (which breaks
// DKIM and, from the list's IP, SPF alignment) and sealing it with an ARC set.
describe('ARC', () => {
  const sender = makeKey('sender.test', 'k1');
  const list = makeKey('list.test', 'arc1');
  const relay = makeKey('relay.test', 'arc1');
  const slow = makeKey('slowarc.test', 'arc1');
  const recorded = 'list.test; dkim=pass header.d=sender.test; spf=pass smtp.mailfrom=sender.test; dmarc=pass header.from=sender.test';
  let harness: AuthHarness;
  let forwarded: Buffer;

  before(async () => {
    harness = await startAuthHarness({
      ...senderZone('sender.test', 'v=DMARC1; p=reject'),
      ...sender.zone,
      ...list.zone,
      ...relay.zone,
      'list.test': [{ TXT: 'v=spf1 ip4:198.51.100.20 -all' }],
      [`${slow.selector}._domainkey.${slow.domain}`]: ['TIMEOUT'],
    });
    const original = await sign(message({ from: 'Alice <alice@sender.test>', subject: 'Meeting' }), sender);
    // The list tags the subject, which breaks the author's signature, then seals.
    forwarded = await arcSeal(Buffer.from(original.toString().replace('Subject: Meeting', 'Subject: [team] Meeting')), list, recorded);
  });
  after(async () => {
    assert.deepEqual(harness.errors, []);
    await harness.stop();
  });

  const fromList = { ip: '198.51.100.20', helo: 'mail.list.test', mailFrom: 'bounce@list.test' };

  test('a message forwarded through an ARC-sealing hop: arc=pass with one instance, its DKIM broken', async () => {
    const { verdicts } = await harness.check(forwarded, fromList);
    assert.deepEqual(verdicts.arc, { result: 'pass', instances: 1, reason: 'i=1 spf=pass dkim=pass dmarc=pass fromdomain=sender.test' });
    assert.deepEqual(verdicts.dkim.map((d) => [d.domain, d.result]), [['sender.test', 'fail']]);
    assert.equal(verdicts.spf.result, 'pass');
    assert.equal(verdicts.dmarc.result, 'fail', 'ARC does not change the DMARC verdict; the application sees both');
    assert.match(verdicts.authenticationResults, /arc=pass \(i=1 spf=pass/);
  });

  test('a second sealing hop that vouches for the first (cv=pass) makes a passing chain of two instances', async () => {
    const twice = await arcSeal(forwarded, relay, 'relay.test; arc=pass; spf=pass smtp.mailfrom=list.test', 'pass');
    const { verdicts } = await harness.check(twice, { ip: '203.0.113.9', helo: 'relay.test', mailFrom: '' });
    assert.deepEqual([verdicts.arc.result, verdicts.arc.instances], ['pass', 2]);
  });

  test('a message changed after it was sealed fails the ARC chain', async () => {
    const tampered = Buffer.from(forwarded.toString().replace('Hello there.', 'Send the invoice to a new account.'));
    const { verdicts } = await harness.check(tampered, fromList);
    assert.deepEqual([verdicts.arc.result, verdicts.arc.instances], ['fail', 1]);
  });

  test('a chain whose seal key lookup times out is temperror, where mailauth itself says fail', async () => {
    const sealed = await arcSeal(await sign(message(), sender), slow, 'slowarc.test; dkim=pass header.d=sender.test');
    const { verdicts } = await harness.check(sealed, fromList);
    assert.deepEqual([verdicts.arc.result, verdicts.arc.instances], ['temperror', 1]);

    // What mailauth reports for the same chain and the same DNS: a failure of the message.
    const resolver = createResolver({ servers: [{ host: '127.0.0.1', port: harness.dns.port }], timeoutMs: 200 });
    const resolve = resolver.resolve as unknown as DNSResolver;
    const dkim = await dkimVerify(sealed, { resolver: resolve });
    const raw = await mailauthArc(dkim.arc as Parameters<typeof mailauthArc>[0], { resolver: resolve });
    assert.equal(raw.status.result, 'fail');
  });
});
