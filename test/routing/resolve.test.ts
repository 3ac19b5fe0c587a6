import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoutes } from '../../src/config/routes.ts';
import { planDeliveries, resolveRecipient, type Target } from '../../src/routing/resolve.ts';

const routes = parseRoutes(
  `
domains:
  example.test:
    url: http://127.0.0.1:9000/inbound
    recipients: ["*"]
  tickets.test:
    url: http://127.0.0.1:9000/tickets
    recipients: [support, billing]
    addresses:
      billing: { url: http://127.0.0.1:9000/billing }
      sales: { url: http://127.0.0.1:9000/sales }
`,
  { source: 'test', env: {} },
);

const target = (address: string): Target => {
  const r = resolveRecipient(routes, address);
  assert.ok(r.ok, `${address} resolves`);
  return r.target;
};

test('accepts any local part of a catch-all domain', () => {
  assert.equal(target('whatever.is+here@example.test').endpoint.url, 'http://127.0.0.1:9000/inbound');
});

test('refuses a domain that is not configured, and a subdomain of one that is', () => {
  assert.deepEqual(resolveRecipient(routes, 'a@other.test'), { ok: false, reason: 'unknown-domain' });
  assert.deepEqual(resolveRecipient(routes, 'support@mail.tickets.test'), { ok: false, reason: 'unknown-domain' });
});

test('refuses a local part the domain does not list', () => {
  assert.deepEqual(resolveRecipient(routes, 'nobody@tickets.test'), { ok: false, reason: 'unknown-recipient' });
});

test('refuses what is not a mailbox on a domain name', () => {
  for (const address of ['no-at-sign', '@tickets.test', 'support@', 'root@[192.0.2.1]']) {
    assert.deepEqual(resolveRecipient(routes, address), { ok: false, reason: 'invalid-address' }, address);
  }
});

test('matches local parts and domains case-insensitively, with a trailing dot on the domain', () => {
  assert.equal(target('SUPPORT@Tickets.TEST.').localPart, 'support');
});

test('splits the plus tag off the local part and keeps its case', () => {
  const t = target('Support+Ticket-4821@tickets.test');
  assert.equal(t.localPart, 'support');
  assert.equal(t.tag, 'Ticket-4821');
  assert.equal(target('support@tickets.test').tag, null);
});

test('sends an address with an override to the override endpoint, tag or not', () => {
  assert.equal(target('billing+q3@tickets.test').endpoint.url, 'http://127.0.0.1:9000/billing');
  assert.equal(target('billing+q3@tickets.test').address, 'billing');
  assert.equal(target('sales@tickets.test').endpoint.url, 'http://127.0.0.1:9000/sales', 'listed only under addresses');
  assert.equal(target('support@tickets.test').address, null);
});

test('plans one delivery per endpoint, in RCPT order, each with only its recipients', () => {
  const plans = planDeliveries(['support@tickets.test', 'a@example.test', 'billing@tickets.test', 'support+2@tickets.test', 'b@example.test'].map(target));
  assert.deepEqual(
    plans.map((p) => [p.endpoint.url, p.targets.map((t) => t.recipient)]),
    [
      ['http://127.0.0.1:9000/tickets', ['support@tickets.test', 'support+2@tickets.test']],
      ['http://127.0.0.1:9000/inbound', ['a@example.test', 'b@example.test']],
      ['http://127.0.0.1:9000/billing', ['billing@tickets.test']],
    ],
  );
});

test('keeps two domains that share a URL as two deliveries', () => {
  const shared = parseRoutes('domains:\n  a.test: { url: "http://h/x", recipients: ["*"] }\n  b.test: { url: "http://h/x", recipients: ["*"] }\n', { source: 't', env: {} });
  const t = (a: string) => {
    const r = resolveRecipient(shared, a);
    assert.ok(r.ok);
    return r.target;
  };
  assert.equal(planDeliveries([t('x@a.test'), t('y@b.test')]).length, 2);
});
