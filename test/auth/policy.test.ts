import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuthReport } from '../../src/auth/authenticate.ts';
import { decide, DEFAULT_AUTH_POLICY, strictest, type AuthPolicy, type PolicyDecision } from '../../src/auth/policy.ts';
import type { DkimVerdict, DmarcVerdict, SpfVerdict } from '../../src/auth/schema.ts';

// The policy decision is a pure function of the verdicts and a domain's policy.

function report(parts: { spf?: Partial<SpfVerdict>; dmarc?: Partial<DmarcVerdict>; dkim?: Partial<DkimVerdict>[]; authorProblem?: AuthReport['authorProblem'] } = {}): AuthReport {
  return {
    verdicts: {
      spf: { result: 'pass', domain: 'sender.test', identity: 'mailfrom', explanation: null, reason: null, ...parts.spf },
      dkim: (parts.dkim ?? []).map((d) => ({ result: 'pass', domain: 'sender.test', selector: 's', algorithm: 'rsa-sha256', reason: null, aligned: false, ...d })),
      dmarc: {
        result: 'pass',
        domain: 'sender.test',
        policy: 'reject',
        subdomainPolicy: 'reject',
        appliedPolicy: 'reject',
        policyDomain: 'sender.test',
        alignment: { spf: true, dkim: false, spfMode: 'relaxed', dkimMode: 'relaxed' },
        reason: null,
        ...parts.dmarc,
      },
      arc: { result: 'none', instances: 0, reason: null },
      authenticationResults: 'mx.test; none',
    },
    authorProblem: parts.authorProblem ?? null,
  };
}

const enforce: AuthPolicy = { ...DEFAULT_AUTH_POLICY, dmarc: 'enforce' };
const deliver = { action: 'deliver', quarantined: false };
const failing = { result: 'fail', alignment: { spf: false, dkim: false, spfMode: 'relaxed', dkimMode: 'relaxed' } } as const;

describe('auth policy decision', () => {
  test('the default policy delivers everything, whatever the verdicts', () => {
    for (const r of [
      report({ dmarc: { ...failing, appliedPolicy: 'reject' }, spf: { result: 'fail' } }),
      report({ dmarc: { result: 'temperror' }, spf: { result: 'temperror' } }),
      report({ dmarc: { result: 'permerror' }, authorProblem: 'multiple-author-domains' }),
    ]) {
      assert.deepEqual(decide(r, DEFAULT_AUTH_POLICY), deliver);
    }
  });

  test('dmarc: enforce refuses a DMARC fail under p=reject, naming the domain and why', () => {
    const decision = decide(report({ dmarc: { ...failing, appliedPolicy: 'reject' }, spf: { result: 'fail' } }), enforce);
    assert.equal(decision.action, 'reject');
    assert.equal(decision.action === 'reject' && decision.check, 'dmarc');
    assert.equal(
      decision.action === 'reject' && decision.reason,
      'sender.test publishes DMARC p=reject and this message fails it: SPF fail for sender.test, no DKIM signature',
    );
  });

  test('dmarc: enforce delivers a DMARC fail under p=quarantine marked quarantined, and under p=none unmarked', () => {
    assert.deepEqual(decide(report({ dmarc: { ...failing, appliedPolicy: 'quarantine' } }), enforce), { action: 'deliver', quarantined: true });
    assert.deepEqual(decide(report({ dmarc: { ...failing, appliedPolicy: 'none' } }), enforce), deliver);
  });

  test('dmarc: enforce follows the applied policy, not p=: a subdomain under sp=none is delivered', () => {
    assert.deepEqual(decide(report({ dmarc: { ...failing, policy: 'reject', subdomainPolicy: 'none', appliedPolicy: 'none' } }), enforce), deliver);
  });

  test('dmarc: enforce delivers a pass and a domain without a record', () => {
    assert.deepEqual(decide(report(), enforce), deliver);
    assert.deepEqual(decide(report({ dmarc: { result: 'none', policy: null, appliedPolicy: null } }), enforce), deliver);
  });

  test('dmarc: enforce defers (never refuses) when the DMARC verdict is temperror', () => {
    const decision = decide(report({ dmarc: { result: 'temperror', reason: 'DNS timeout' } }), enforce);
    assert.deepEqual(decision, { action: 'defer', check: 'dmarc', reason: 'DMARC check for sender.test failed temporarily: DNS timeout' });
  });

  test('dmarc: enforce refuses a message whose From field names several domains', () => {
    const decision = decide(report({ dmarc: { result: 'permerror', domain: null, reason: 'DMARC cannot be evaluated: the From field names addresses in several domains' }, authorProblem: 'multiple-author-domains' }), enforce);
    assert.equal(decision.action, 'reject');
  });

  test('spf: reject refuses SPF fail only, and defers on SPF temperror', () => {
    const policy: AuthPolicy = { ...DEFAULT_AUTH_POLICY, spf: 'reject' };
    assert.equal(decide(report({ spf: { result: 'fail' } }), policy).action, 'reject');
    assert.equal(decide(report({ spf: { result: 'temperror' } }), policy).action, 'defer');
    for (const result of ['softfail', 'neutral', 'none', 'permerror', 'pass'] as const) {
      assert.deepEqual(decide(report({ spf: { result } }), policy), deliver, result);
    }
  });

  test('requireDkim accepts a passing signature from a listed domain only, compared case-insensitively', () => {
    const policy: AuthPolicy = { ...DEFAULT_AUTH_POLICY, requireDkim: ['bank.test', 'pay.test'] };
    assert.deepEqual(decide(report({ dkim: [{ domain: 'other.test' }, { domain: 'PAY.test' }] }), policy), deliver);
    const unlisted = decide(report({ dkim: [{ domain: 'other.test' }] }), policy);
    assert.equal(unlisted.action === 'reject' && unlisted.reason, 'a valid DKIM signature from bank.test, pay.test is required: no DKIM signature');
    const failed = decide(report({ dkim: [{ domain: 'bank.test', result: 'fail', reason: 'bad signature' }] }), policy);
    assert.equal(failed.action === 'reject' && failed.reason, 'a valid DKIM signature from bank.test, pay.test is required: DKIM fail for bank.test (bad signature)');
    assert.equal(decide(report({ dkim: [{ domain: 'bank.test', result: 'temperror' }] }), policy).action, 'defer');
    assert.equal(decide(report({ dkim: [{ domain: 'sub.bank.test' }] }), policy).action, 'reject', 'a subdomain is not the listed domain');
  });

  test('a refusal beats a deferral, which beats delivery', () => {
    const reject: PolicyDecision = { action: 'reject', check: 'spf', reason: 'r' };
    const defer: PolicyDecision = { action: 'defer', check: 'dmarc', reason: 'd' };
    assert.equal(strictest([deliver as PolicyDecision, defer, reject]), reject);
    assert.equal(strictest([deliver as PolicyDecision, defer]), defer);
    assert.equal(strictest([]), null);
    // Within one domain too: SPF refuses although DMARC only defers.
    const both = decide(report({ spf: { result: 'fail' }, dmarc: { result: 'temperror' } }), { ...enforce, spf: 'reject' });
    assert.equal(both.action, 'reject');
  });
});
