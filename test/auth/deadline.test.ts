import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { senderZone, startAuthHarness, type AuthHarness } from './harness.ts';
import { arcSeal, makeKey, message, sign } from './signing.ts';

// The whole check has a deadline: a DNS server that never answers costs the
// reply to the final dot at most that long, and what is unknown reads temperror.
describe('authentication deadline', () => {
  const DEADLINE_MS = 800;
  const key = makeKey('sender.test', 'k1');
  const list = makeKey('list.test', 'arc1');
  // Its own domain, so that nothing it caches answers for the muted cases.
  const timely = makeKey('timely.test', 'k1');
  let harness: AuthHarness;

  before(async () => {
    // Lookups may take 4 s each: only the deadline can end the check sooner.
    harness = await startAuthHarness({ ...senderZone('sender.test', 'v=DMARC1; p=reject'), ...key.zone, ...list.zone, ...senderZone('timely.test', 'v=DMARC1; p=reject'), ...timely.zone }, { authTimeoutMs: DEADLINE_MS, dnsTimeoutMs: 4000 });
  });
  after(async () => {
    assert.deepEqual(harness.errors, []);
    await harness.stop();
  });

  test('with answers in time, a signed message gets its real verdicts', async () => {
    const { verdicts } = await harness.check(await sign(message({ from: 'a@timely.test' }), timely), { mailFrom: 'b@timely.test' });
    assert.deepEqual([verdicts.spf.result, verdicts.dkim[0]?.result, verdicts.dmarc.result], ['pass', 'pass', 'pass']);
  });

  test('with a DNS server that never answers, the checks run side by side and every verdict needing DNS is temperror at the deadline', async () => {
    const signed = await arcSeal(await sign(message(), key), list, 'list.test; dkim=pass header.d=sender.test');
    harness.dns.queries.length = 0;
    harness.dns.mute(true);
    const started = Date.now();
    const { verdicts } = await harness.check(signed);
    const elapsed = Date.now() - started;
    harness.dns.mute(false);

    // Well before the 4 s lookup timeout: the deadline, not DNS, ended it.
    assert.ok(elapsed >= DEADLINE_MS - 20 && elapsed < DEADLINE_MS + 1500, `the check took ${elapsed} ms`);
    assert.equal(verdicts.spf.result, 'temperror');
    assert.deepEqual(verdicts.dkim.map((d) => [d.domain, d.selector, d.result]), [['sender.test', 'k1', 'temperror']], 'the signature is still listed');
    assert.equal(verdicts.dmarc.result, 'temperror');
    assert.deepEqual([verdicts.arc.result, verdicts.arc.instances], ['temperror', 1]);
    assert.match(verdicts.dkim[0]!.reason!, /deadline/);
    assert.match(verdicts.authenticationResults, /spf=temperror/);
    // None of the checks waited for another's answer: each asked although nothing was answered.
    for (const query of ['TXT sender.test', 'TXT k1._domainkey.sender.test', 'TXT _dmarc.sender.test', 'TXT arc1._domainkey.list.test']) {
      assert.ok(harness.dns.queries.includes(query), `${query} was asked; asked: ${harness.dns.queries.join(', ')}`);
    }
  });

  test('a message without ARC headers reads arc=none even when the deadline passes', async () => {
    harness.dns.mute(true);
    const { verdicts } = await harness.check(message({ from: 'a@elsewhere.test' }), { mailFrom: 'b@elsewhere.test' });
    harness.dns.mute(false);
    assert.deepEqual([verdicts.arc.result, verdicts.arc.instances], ['none', 0]);
  });
});
