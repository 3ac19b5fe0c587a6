import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Zone } from '../support/dns-server.ts';
import { startAuthHarness, type AuthHarness } from './harness.ts';
import { message } from './signing.ts';

// SPF verdicts for the MAIL FROM domain (or HELO for the null sender) against the
// client IP of the SMTP session, from records on a DNS server on loopback.
describe('SPF', () => {
  // A chain of 11 includes: one DNS-querying term more than RFC 7208 allows.
  const chain: Zone = Object.fromEntries(
    Array.from({ length: 11 }, (_, i) => [`l${i}.deep.test`, [{ TXT: i < 10 ? `v=spf1 include:l${i + 1}.deep.test -all` : 'v=spf1 -all' }]]),
  );
  let harness: AuthHarness;

  before(async () => {
    harness = await startAuthHarness({
      'pass.test': [{ TXT: 'v=spf1 ip4:192.0.2.0/24 -all' }],
      'fail.test': [{ TXT: 'v=spf1 ip4:203.0.113.5 -all' }],
      'softfail.test': [{ TXT: 'v=spf1 ip4:203.0.113.5 ~all' }],
      'neutral.test': [{ TXT: 'v=spf1 ?all' }],
      'norecord.test': [{ A: '192.0.2.1' }],
      'deep.test': [{ TXT: 'v=spf1 include:l0.deep.test -all' }],
      ...chain,
      'void.test': [{ TXT: 'v=spf1 a:none1.void.test a:none2.void.test a:none3.void.test ip4:192.0.2.10 -all' }],
      'mx.pass.test': [{ TXT: 'v=spf1 a -all' }, { A: '192.0.2.10' }],
      'forged.test': [{ TXT: 'v=spf1 ip4:203.0.113.5 -all' }],
    });
  });
  after(async () => {
    assert.deepEqual(harness.errors, []);
    await harness.stop();
  });

  const spfOf = async (mailFrom: string, envelope: { ip?: string; helo?: string } = {}, raw = message()) =>
    (await harness.check(raw, { mailFrom, ...envelope })).verdicts.spf;

  test('pass: the client IP is in the domain record', async () => {
    const spf = await spfOf('bounce@pass.test');
    assert.deepEqual([spf.result, spf.domain, spf.identity], ['pass', 'pass.test', 'mailfrom']);
  });

  test('fail: the record ends in -all and does not list the client', async () => {
    assert.equal((await spfOf('bounce@fail.test')).result, 'fail');
  });

  test('softfail: ~all', async () => {
    assert.equal((await spfOf('bounce@softfail.test')).result, 'softfail');
  });

  test('neutral: ?all', async () => {
    assert.equal((await spfOf('bounce@neutral.test')).result, 'neutral');
  });

  test('none: the domain publishes no SPF record', async () => {
    assert.equal((await spfOf('bounce@norecord.test')).result, 'none');
  });

  test('permerror: more than 10 DNS-querying terms (RFC 7208 4.6.4)', async () => {
    const spf = await spfOf('bounce@deep.test');
    assert.equal(spf.result, 'permerror');
    assert.match(spf.reason ?? '', /Too many DNS requests/);
  });

  test('permerror: more than 2 void lookups (RFC 7208 4.6.4)', async () => {
    assert.equal((await spfOf('bounce@void.test')).result, 'permerror');
  });

  test('checks the HELO name for the null sender', async () => {
    const spf = await spfOf('', { helo: 'mx.pass.test' });
    assert.deepEqual([spf.result, spf.domain, spf.identity], ['pass', 'mx.pass.test', 'helo']);
    const report = await harness.check(message(), { mailFrom: '', helo: 'mx.pass.test' });
    assert.match(report.verdicts.authenticationResults, /spf=pass .*smtp\.helo=mx\.pass\.test/);
  });

  test('a forged Received header naming an authorised IP does not change the verdict', async () => {
    const raw = message({ headers: ['Received: from relay.forged.test (relay.forged.test [203.0.113.5]) by mx.forged.test; Sat, 28 Nov 2026 10:00:00 +0000'] });
    const spf = await spfOf('bounce@forged.test', { ip: '192.0.2.10', helo: 'relay.forged.test' }, raw);
    assert.equal(spf.result, 'fail', 'only the SMTP session client, 192.0.2.10, is checked');
  });

  test('temperror: the DNS server has stopped', async () => {
    const stopped = await startAuthHarness({ 'pass.test': [{ TXT: 'v=spf1 ip4:192.0.2.0/24 -all' }] });
    await stopped.stop();
    const spf = (await stopped.check(message(), { mailFrom: 'bounce@pass.test' })).verdicts.spf;
    assert.equal(spf.result, 'temperror');
    assert.deepEqual(stopped.errors, []);
  });
});
