import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authenticate, type DNSResolver } from 'mailauth';
import { senderZone, startAuthHarness, type AuthHarness } from './harness.ts';
import { makeKey, message, sign } from './signing.ts';

// DMARC verdicts: policy discovery (with the DNS tree walk for subdomains), SPF
// and DKIM alignment in relaxed and strict mode, from records on loopback DNS.
describe('DMARC', () => {
  const dkimOnly = makeKey('dkimonly.test', 'k1');
  const strictDkim = makeKey('mail.strictdkim.test', 'k1');
  const relaxedDkim = makeKey('mail.relaxeddkim.test', 'k1');
  const sender = makeKey('sender.test', 'k1');
  let harness: AuthHarness;

  before(async () => {
    harness = await startAuthHarness({
      // The ESP's bounce domain: SPF passes for it, but it aligns with no author.
      ...senderZone('esp.test', null),
      ...senderZone('aligned-spf.test', 'v=DMARC1; p=reject'),
      ...senderZone('dkimonly.test', 'v=DMARC1; p=reject', 'v=spf1 -all'),
      ...dkimOnly.zone,
      ...senderZone('reject.test', 'v=DMARC1; p=reject'),
      ...senderZone('quarantine.test', 'v=DMARC1; p=quarantine'),
      ...senderZone('none.test', 'v=DMARC1; p=none'),
      ...senderZone('strictspf.test', 'v=DMARC1; p=reject; aspf=s'),
      ...senderZone('mail.strictspf.test', null),
      ...senderZone('relaxedspf.test', 'v=DMARC1; p=reject'),
      ...senderZone('mail.relaxedspf.test', null),
      ...senderZone('strictdkim.test', 'v=DMARC1; p=reject; adkim=s'),
      ...strictDkim.zone,
      ...senderZone('relaxeddkim.test', 'v=DMARC1; p=reject'),
      ...relaxedDkim.zone,
      '_dmarc.org.test': [{ TXT: 'v=DMARC1; p=reject; sp=quarantine' }],
      'news.org.test': [{ A: '192.0.2.80' }],
      ...senderZone('sender.test', 'v=DMARC1; p=reject'),
      ...sender.zone,
      ...senderZone('evil.test', 'v=DMARC1; p=none'),
      'slowdmarc.test': [{ TXT: 'v=spf1 -all' }],
      '_dmarc.slowdmarc.test': ['TIMEOUT'],
      'tempspf.test': [{ TXT: 'TIMEOUT' }],
      '_dmarc.tempspf.test': [{ TXT: 'v=DMARC1; p=reject' }],
      'tempother.test': [{ TXT: 'TIMEOUT' }],
    });
  });
  after(async () => {
    assert.deepEqual(harness.errors, []);
    await harness.stop();
  });

  const dmarcOf = async (raw: string | Buffer, mailFrom: string) => (await harness.check(raw, { mailFrom })).verdicts.dmarc;

  test('passes through SPF alignment alone (no DKIM signature)', async () => {
    const dmarc = await dmarcOf(message({ from: 'a@aligned-spf.test' }), 'bounce@aligned-spf.test');
    assert.equal(dmarc.result, 'pass');
    assert.deepEqual([dmarc.alignment.spf, dmarc.alignment.dkim], [true, false]);
  });

  test('passes through DKIM alignment alone (SPF passes for an unaligned bounce domain)', async () => {
    const report = await harness.check(await sign(message({ from: 'a@dkimonly.test' }), dkimOnly), { mailFrom: 'bounce@esp.test' });
    assert.equal(report.verdicts.spf.result, 'pass');
    assert.equal(report.verdicts.dmarc.result, 'pass');
    assert.deepEqual([report.verdicts.dmarc.alignment.spf, report.verdicts.dmarc.alignment.dkim], [false, true]);
    assert.equal(report.verdicts.dkim[0]?.aligned, true);
  });

  test('fails under p=reject when neither SPF nor DKIM aligns, with the policy to apply', async () => {
    const dmarc = await dmarcOf(message({ from: 'a@reject.test' }), 'bounce@esp.test');
    assert.deepEqual([dmarc.result, dmarc.domain, dmarc.policy, dmarc.appliedPolicy, dmarc.policyDomain], ['fail', 'reject.test', 'reject', 'reject', 'reject.test']);
  });

  test('fails under p=quarantine and p=none, each reporting its own policy', async () => {
    const quarantine = await dmarcOf(message({ from: 'a@quarantine.test' }), 'bounce@esp.test');
    assert.deepEqual([quarantine.result, quarantine.appliedPolicy], ['fail', 'quarantine']);
    const none = await dmarcOf(message({ from: 'a@none.test' }), 'bounce@esp.test');
    assert.deepEqual([none.result, none.appliedPolicy], ['fail', 'none']);
  });

  test('aspf=s: SPF for a subdomain of the From domain does not align; relaxed (the default) does', async () => {
    const strict = await dmarcOf(message({ from: 'a@strictspf.test' }), 'bounce@mail.strictspf.test');
    assert.deepEqual([strict.result, strict.alignment.spf, strict.alignment.spfMode], ['fail', false, 'strict']);
    const relaxed = await dmarcOf(message({ from: 'a@relaxedspf.test' }), 'bounce@mail.relaxedspf.test');
    assert.deepEqual([relaxed.result, relaxed.alignment.spf, relaxed.alignment.spfMode], ['pass', true, 'relaxed']);
  });

  test('adkim=s: a signature by a subdomain of the From domain does not align; relaxed does', async () => {
    const strict = await harness.check(await sign(message({ from: 'a@strictdkim.test' }), strictDkim), { mailFrom: 'bounce@esp.test' });
    assert.equal(strict.verdicts.dkim[0]?.result, 'pass');
    assert.deepEqual([strict.verdicts.dmarc.result, strict.verdicts.dkim[0]?.aligned, strict.verdicts.dmarc.alignment.dkimMode], ['fail', false, 'strict']);
    const relaxed = await harness.check(await sign(message({ from: 'a@relaxeddkim.test' }), relaxedDkim), { mailFrom: 'bounce@esp.test' });
    assert.deepEqual([relaxed.verdicts.dmarc.result, relaxed.verdicts.dkim[0]?.aligned], ['pass', true]);
  });

  test('a subdomain sender without a record of its own gets the organisational domain record and its sp=', async () => {
    harness.dns.queries.length = 0;
    const dmarc = await dmarcOf(message({ from: 'a@news.org.test' }), 'bounce@esp.test');
    assert.deepEqual(
      [dmarc.result, dmarc.domain, dmarc.policyDomain, dmarc.policy, dmarc.subdomainPolicy, dmarc.appliedPolicy],
      ['fail', 'news.org.test', 'org.test', 'reject', 'quarantine', 'quarantine'],
    );
    assert.ok(harness.dns.queries.includes('TXT _dmarc.news.org.test'), 'the walk starts at the author domain');
    assert.ok(harness.dns.queries.includes('TXT _dmarc.org.test'), 'and finds the organisational domain record');
  });

  test('several From addresses in different domains never read as a pass, even when one domain passes everything', async () => {
    const raw = await sign(message({ from: 'a@sender.test, b@evil.test' }), sender);
    const report = await harness.check(raw, { mailFrom: 'bounce@sender.test' });
    assert.equal(report.verdicts.spf.result, 'pass');
    assert.equal(report.verdicts.dkim[0]?.result, 'pass');
    assert.equal(report.verdicts.dmarc.result, 'permerror');
    assert.equal(report.authorProblem, 'multiple-author-domains');
  });

  test('two From fields, or none at all, never read as a pass', async () => {
    const twoFields = `From: b@evil.test\r\n${(await sign(message({ from: 'a@sender.test' }), sender)).toString()}`;
    const two = await harness.check(twoFields, { mailFrom: 'bounce@sender.test' });
    assert.deepEqual([two.verdicts.dmarc.result, two.authorProblem], ['permerror', 'multiple-from-fields']);
    const noFrom = message().replace(/^From: .*\r\n/m, '');
    const none = await harness.check(noFrom, { mailFrom: 'bounce@sender.test' });
    assert.deepEqual([none.verdicts.dmarc.result, none.authorProblem], ['permerror', 'no-author-domain']);
  });

  test('temperror when the DMARC record lookup times out', async () => {
    const dmarc = await dmarcOf(message({ from: 'a@slowdmarc.test' }), 'bounce@esp.test');
    assert.equal(dmarc.result, 'temperror');
  });

  test('temperror, not fail, when SPF failed temporarily for a domain that could have aligned', async () => {
    const report = await harness.check(message({ from: 'a@tempspf.test' }), { mailFrom: 'bounce@tempspf.test' });
    assert.equal(report.verdicts.spf.result, 'temperror');
    assert.equal(report.verdicts.dmarc.result, 'temperror');
    assert.match(report.verdicts.dmarc.reason ?? '', /SPF for tempspf\.test failed temporarily/);

    // mailauth's own reading, which mxpost corrects: a forgery verdict caused by a DNS hiccup.
    const raw = await authenticate(Buffer.from(message({ from: 'a@tempspf.test' })), {
      ip: '192.0.2.10',
      helo: 'mail.sender.test',
      sender: 'bounce@tempspf.test',
      resolver: harness.resolver.resolve as unknown as DNSResolver,
      disableBimi: true,
    });
    assert.equal(raw.spf && raw.spf.status.result, 'temperror');
    assert.equal(raw.dmarc && raw.dmarc.status.result, 'fail');
  });

  test('still fail when SPF failed temporarily only for a domain that could never align', async () => {
    const report = await harness.check(message({ from: 'a@reject.test' }), { mailFrom: 'bounce@tempother.test' });
    assert.equal(report.verdicts.spf.result, 'temperror');
    assert.equal(report.verdicts.dmarc.result, 'fail');
  });
});
