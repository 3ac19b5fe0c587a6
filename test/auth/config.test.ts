import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_AUTH_POLICY } from '../../src/auth/policy.ts';
import { parseRoutes, RoutesError } from '../../src/config/routes.ts';
import { loadSettings, SettingsError } from '../../src/config/settings.ts';

const routes = (auth: string) =>
  ['domains:', '  example.test:', '    url: http://127.0.0.1:9000/in', '    recipients: ["*"]', ...(auth ? [`    auth: ${auth}`] : []), ''].join('\n');

function problems(text: string): string[] {
  try {
    parseRoutes(text, { source: 'routes.yaml', env: {} });
  } catch (err) {
    assert.ok(err instanceof RoutesError);
    return err.problems.map((p) => `${p.line}:${p.path}: ${p.message}`);
  }
  assert.fail('accepted');
}

describe('the auth block of a routes-file domain', () => {
  test('absent: deliver everything with its verdicts', () => {
    const route = parseRoutes(routes(''), { source: 'routes.yaml', env: {} }).domains.get('example.test');
    assert.deepEqual(route?.auth, DEFAULT_AUTH_POLICY);
  });

  test('takes dmarc, spf and requireDkim, domains normalised to their ASCII form', () => {
    const route = parseRoutes(routes('{ dmarc: enforce, spf: reject, requireDkim: [Bücher.TEST, bank.test.] }'), { source: 'routes.yaml', env: {} }).domains.get('example.test');
    assert.deepEqual(route?.auth, { dmarc: 'enforce', spf: 'reject', requireDkim: ['xn--bcher-kva.test', 'bank.test'] });
  });

  test('refuses unknown keys and values, with the line and what is allowed', () => {
    assert.deepEqual(problems(routes('{ dmarc: reject }')), ['5:domains."example.test".auth.dmarc: must be monitor or enforce, got "reject"']);
    assert.deepEqual(problems(routes('{ spf: hardfail }')), ['5:domains."example.test".auth.spf: must be monitor or reject, got "hardfail"']);
    assert.deepEqual(problems(routes('{ dkim: enforce }')), ['5:domains."example.test".auth: unknown key "dkim"; allowed keys are dmarc, spf, requireDkim']);
    assert.deepEqual(problems(routes('{ requireDkim: ["not a domain"] }')), ['5:domains."example.test".auth.requireDkim[0]: is not a valid domain name: "not a domain"']);
    assert.deepEqual(problems(routes('enforce')), ['5:domains."example.test".auth: must be a mapping, e.g. { dmarc: enforce }']);
  });
});

describe('authentication settings', () => {
  test('defaults: system resolvers, 2 s per lookup, 5 s per message, the host name as authserv-id', () => {
    const settings = loadSettings({ MXPOST_HOSTNAME: 'mx1.example.com' });
    assert.equal(settings.dnsServers, null);
    assert.equal(settings.dnsTimeoutMs, 2000);
    assert.equal(settings.authTimeoutMs, 5000);
    assert.equal(settings.authservId, 'mx1.example.com');
    assert.equal(loadSettings({ MXPOST_HOSTNAME: 'mx1.example.com', MXPOST_AUTHSERV_ID: 'mx.example.com' }).authservId, 'mx.example.com');
  });

  test('an authserv-id must be one token: it starts every Authentication-Results value', () => {
    assert.throws(() => loadSettings({ MXPOST_AUTHSERV_ID: 'mx.example.com; dkim=pass' }), (err: unknown) => err instanceof SettingsError && /MXPOST_AUTHSERV_ID/.test(err.message));
  });
});
