import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRoutes, RoutesError, type Routes } from '../../src/config/routes.ts';
import { newSecret } from '../../src/delivery/sign.ts';
import { dryRun, parseDryRunInput } from '../../src/routing/dry-run.ts';
import { disposeOf, planDeliveries, resolveRecipient, type Target } from '../../src/routing/resolve.ts';
import type { MessageFacts } from '../../src/routing/rules.ts';
import { decideRecipient } from '../../src/smtp/rcpt.ts';

// Rules as the routes file gives them, decided by the same functions as live
// mail: resolveRecipient and decideRecipient at RCPT, disposeOf and
// planDeliveries once the message is in.

const SECRET = newSecret();
const AUDIT = newSecret();
const env = { SECRET, AUDIT };

function routes(rules: string, extra = ''): Routes {
  return parseRoutes(
    ['domains:', '  app.test:', '    url: https://app.test/inbound', '    secret: env:SECRET', '    recipients: [support]', extra, '    rules:', rules].join('\n'),
    { source: 'rules.yaml', env },
  );
}

function problems(text: string): string[] {
  try {
    parseRoutes(text, { source: 'rules.yaml', env });
  } catch (err) {
    if (err instanceof RoutesError) return err.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
    throw err;
  }
  assert.fail('the file was accepted');
}

const NO_FACTS: MessageFacts = { headers: {}, auth: { spf: 'none', dkim: 'none', dmarc: 'none', arc: 'none' } };

function target(r: Routes, to: string, from = 'someone@sender.test'): Target {
  const resolution = resolveRecipient(r, to, from);
  assert.ok(resolution.ok, `${to} is accepted: ${JSON.stringify(resolution)}`);
  return resolution.target;
}

/** Where a message to `to` goes: each delivery's URL, or the action when there is none. */
function outcome(r: Routes, to: string, facts: MessageFacts = NO_FACTS, from?: string) {
  const t = target(r, to, from);
  const disposition = disposeOf(t, facts);
  const plans = planDeliveries([t], new Map([[t, disposition]]));
  return { action: disposition.action, rule: disposition.rule?.rule.name ?? null, urls: plans.map((p) => p.endpoint.url), plans };
}

describe('rules: matching', () => {
  const r = routes(`
      - name: vip
        priority: 10
        match: { from: "*@vip.test" }
        to: https://vip.test/in
      - name: tickets
        match: { recipient: "/^ticket-(?<ticket>[0-9]+)(\\\\+.*)?$/" }
        to: https://app.test/tickets/{ticket}
      - name: billing
        match: { recipient: "billing" }
        to: [https://billing.test/in, { url: https://audit.test/in, secret: env:AUDIT }]
      - name: wild
        match: { recipient: "team-*" }
        to: https://team.test/in
      - name: urgent
        match: { headers: { X-Priority: ["1", "/^urgent/i"] } }
        to: https://urgent.test/in
      - name: failing-dmarc
        match: { auth: { dmarc: [fail, permerror] } }
        action: hold
`);

  test('exact text names the local part without case or tag', () => {
    assert.deepEqual(outcome(r, 'Billing+x@app.test').rule, 'billing');
    assert.deepEqual(resolveRecipient(r, 'billings@app.test'), { ok: false, reason: 'unknown-recipient' });
  });

  test('a wildcard matches any run of characters, without case', () => {
    assert.equal(outcome(r, 'TEAM-red@app.test').rule, 'wild');
    assert.deepEqual(outcome(r, 'team-@app.test').urls, ['https://team.test/in']);
  });

  test('a regular expression sees the local part as sent and its named groups fill the URL', () => {
    const o = outcome(r, 'ticket-4821+reply@app.test');
    assert.equal(o.rule, 'tickets');
    assert.deepEqual(o.urls, ['https://app.test/tickets/4821']);
    assert.deepEqual(o.plans[0]!.rule, { name: 'tickets', captures: { ticket: '4821' } });
  });

  test('a rule naming a recipient accepts it; without one the routes file decides', () => {
    assert.equal(resolveRecipient(r, 'ticket-1@app.test').ok, true);
    assert.equal(resolveRecipient(r, 'team-x@app.test').ok, true);
    assert.deepEqual(resolveRecipient(r, 'ticket-x@app.test'), { ok: false, reason: 'unknown-recipient' });
  });

  test('the sender matches the whole envelope address, and priority puts the vip rule first', () => {
    assert.equal(outcome(r, 'billing@app.test', NO_FACTS, 'Boss@VIP.test').rule, 'vip');
    assert.equal(outcome(r, 'billing@app.test', NO_FACTS, 'boss@vip.test.evil').rule, 'billing');
  });

  test('several endpoints are a delivery each, each signed with its own secret', () => {
    const o = outcome(r, 'billing@app.test');
    assert.deepEqual(o.urls, ['https://billing.test/in', 'https://audit.test/in']);
    assert.deepEqual(o.plans.map((p) => p.endpoint.secrets), [[SECRET], [AUDIT]]);
    assert.deepEqual(o.plans.map((p) => p.ref), [{ name: 'billing', endpoint: 0 }, { name: 'billing', endpoint: 1 }]);
  });

  test('header values: any field of the name, any pattern of the list', () => {
    assert.equal(outcome(r, 'support@app.test', { ...NO_FACTS, headers: { 'x-priority': ['3', '1'] } }).rule, 'urgent');
    assert.equal(outcome(r, 'support@app.test', { ...NO_FACTS, headers: { 'x-priority': ['URGENT: now'] } }).rule, 'urgent');
    assert.equal(outcome(r, 'support@app.test', { ...NO_FACTS, headers: { 'x-priority': ['2'] } }).rule, null);
  });

  test('auth verdicts', () => {
    const o = outcome(r, 'support@app.test', { headers: {}, auth: { spf: 'pass', dkim: 'none', dmarc: 'fail', arc: 'none' } });
    assert.equal(o.action, 'hold');
    assert.deepEqual(o.urls, ['https://app.test/inbound'], 'a hold rule without to keeps the recipient’s own endpoint');
    assert.equal(o.plans[0]!.held, true);
    assert.equal(outcome(r, 'support@app.test', { headers: {}, auth: null }).rule, null, 'no verdicts: an auth condition does not hold');
  });

  test('no rule matches: the route’s endpoint, as without rules', () => {
    const o = outcome(r, 'support@app.test');
    assert.deepEqual(o, { action: 'deliver', rule: null, urls: ['https://app.test/inbound'], plans: o.plans });
    assert.equal(o.plans[0]!.ref, null);
  });

  test('a capture cannot leave its place in the URL', () => {
    const evil = routes(`
      - name: t
        match: { headers: { X-Id: "/^(?<id>.*)$/" } }
        to: https://app.test/t/{id}?x=1
`);
    const o = outcome(evil, 'support@app.test', { ...NO_FACTS, headers: { 'x-id': ['../../admin?y=2#z'] } });
    assert.deepEqual(o.urls, ['https://app.test/t/..%2F..%2Fadmin%3Fy%3D2%23z?x=1']);
  });

  test('equal priorities keep file order; the first match wins', () => {
    const order = routes(`
      - { name: first, match: { recipient: "support" }, to: https://one.test/ }
      - { name: second, match: { recipient: "support" }, to: https://two.test/ }
      - { name: high, priority: 5, match: { recipient: "nobody" }, to: https://three.test/ }
`);
    assert.deepEqual(order.domains.get('app.test')!.rules.map((rule) => rule.name), ['high', 'first', 'second']);
    assert.equal(outcome(order, 'support@app.test').rule, 'first');
  });
});

describe('rules: actions', () => {
  const r = routes(`
      - name: blocked
        match: { from: ["*@spam.test", "<>"] }
        action: reject
        code: 550
        text: "5.7.1 We do not accept mail from you"
      - name: busy
        match: { recipient: "later" }
        action: reject
        code: 451
        text: "Come back later"
      - name: spam-header
        match: { headers: { X-Spam-Flag: "YES" } }
        action: drop
      - name: scanned
        match: { headers: { X-Scan: "infected" } }
        action: reject
      - name: hold-all
        match: { recipient: "quarantine" }
        action: hold
`);
  const session = (from: string) => ({ envelope: { mailFrom: from === '' ? false : { address: from, args: false }, rcptTo: [] } }) as never;

  test('reject on the envelope alone refuses at RCPT with the rule’s code and text', () => {
    const refused = decideRecipient(r, { address: 'support@app.test', args: false }, session('x@spam.test'), 100);
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.reply.responseCode, 550);
      assert.equal(refused.reply.message, '5.7.1 We do not accept mail from you');
      assert.equal(refused.reason, 'rule-reject');
    }
    const bounce = decideRecipient(r, { address: 'support@app.test', args: false }, session(''), 100);
    assert.equal(bounce.ok, false, 'the null sender is "<>"');
    const later = decideRecipient(r, { address: 'later@app.test', args: false }, session('a@ok.test'), 100);
    assert.ok(!later.ok && later.reply.responseCode === 451 && later.reply.message === '4.7.1 Come back later');
  });

  test('a reject that needs the message waits for DATA, where it refuses the message', () => {
    const accepted = decideRecipient(r, { address: 'support@app.test', args: false }, session('a@ok.test'), 100);
    assert.equal(accepted.ok, true);
    const o = outcome(r, 'support@app.test', { ...NO_FACTS, headers: { 'x-scan': ['INFECTED'] } });
    assert.equal(o.action, 'reject');
    assert.deepEqual(o.urls, []);
  });

  test('drop: accepted, and no delivery', () => {
    const o = outcome(r, 'support@app.test', { ...NO_FACTS, headers: { 'x-spam-flag': ['yes'] } });
    assert.deepEqual([o.action, o.rule, o.urls], ['drop', 'spam-header', []]);
  });

  test('hold: a delivery kept for release', () => {
    const o = outcome(r, 'quarantine@app.test');
    assert.deepEqual([o.action, o.plans.map((p) => p.held)], ['hold', [true]]);
  });

  test('a rule before a reject that needs the message keeps the recipient until DATA', () => {
    const mixed = routes(`
      - { name: maybe, match: { headers: { X-A: "1" } }, to: https://a.test/ }
      - { name: no, match: { recipient: "support" }, action: reject }
`);
    assert.equal(decideRecipient(mixed, { address: 'support@app.test', args: false }, session('a@ok.test'), 100).ok, true);
    assert.equal(outcome(mixed, 'support@app.test', { ...NO_FACTS, headers: { 'x-a': ['1'] } }).rule, 'maybe');
    assert.equal(outcome(mixed, 'support@app.test').action, 'reject');
  });
});

describe('rules: the routes file', () => {
  const file = (rules: string) => ['domains:', '  app.test:', '    url: https://app.test/', '    recipients: ["*"]', '    rules:', rules].join('\n');

  test('each mistake is named at its line', () => {
    const cases: [string, RegExp][] = [
      ['      - name: a\n        match: { recipient: "/(unclosed/" }', /^7:\d+ domains\."app\.test"\.rules\[0\]\.match\.recipient\[0\]: is not a valid regular expression/],
      ['      - name: a\n        match: { from: "/x/g" }', /^7:\d+ .*rules\[0\]\.match\.from\[0\]: regular expression flags may be i, m, s, u and v/],
      ['      - name: a\n      - name: a', /^7:\d+ .*rules\[1\]\.name: duplicate rule name "a"/],
      ['      - name: c\n        match: { recipient: "/^(?<id>.+)$/" }\n        to: https://{id}.app.test/', /^8:\d+ .*rules\[0\]\.to\[0\]\.url: may use \{placeholders\} only in the path and the query/],
      ['      - name: d\n        to: https://app.test/{missing}', /^7:\d+ .*rules\[0\]\.to: \{missing\} is not a named group/],
      ['      - name: e\n        action: drop\n        to: https://app.test/', /^8:\d+ .*rules\[0\]\.to: is for action: deliver or hold/],
      ['      - name: f\n        code: 550', /^7:\d+ .*rules\[0\]\.code: is for action: reject only/],
      ['      - name: g\n        match: { auth: { dmarc: great } }', /^7:\d+ .*rules\[0\]\.match\.auth\.dmarc\[0\]/],
      ['      - name: h\n        action: reject\n        code: 250', /^8:\d+ .*rules\[0\]\.code: must be an SMTP code from 450 to 459/],
      ['      - name: "no spaces"', /^6:\d+ .*rules\[0\]\.name: must be 1 to 64 letters/],
      ['      - name: i\n        match: { subject: x }', /^7:\d+ .*rules\[0\]\.match: .*allowed keys are recipient, from, headers, auth/],
      ['      - name: j\n        action: forward', /^7:\d+ .*rules\[0\]\.action: must be one of deliver, drop, hold, reject/],
    ];
    for (const [rules, pattern] of cases) {
      const found = problems(file(rules));
      assert.ok(found.some((p) => pattern.test(p)), `${pattern} in:\n${found.join('\n')}`);
    }
  });

  test('recipients may be left out when rules name them', () => {
    const r = parseRoutes(['domains:', '  app.test:', '    url: https://app.test/', '    rules:', '      - { name: t, match: { recipient: "t-*" } }'].join('\n'), { source: 'x', env });
    assert.equal(resolveRecipient(r, 't-1@app.test').ok, true);
    assert.deepEqual(resolveRecipient(r, 'other@app.test'), { ok: false, reason: 'unknown-recipient' });
    assert.ok(problems(['domains:', '  app.test:', '    url: https://app.test/'].join('\n')).some((p) => p.includes('recipients: is required')));
  });
});

describe('rules: the dry run', () => {
  const r = routes(
    `
      - name: tickets
        match: { recipient: "/^ticket-(?<ticket>[0-9]+)$/", auth: { dmarc: pass } }
        to: https://app.test/tickets/{ticket}
      - name: blocked
        match: { from: "*@spam.test" }
        action: reject
`,
  );
  const run = (args: Parameters<typeof parseDryRunInput>[0]) => {
    const input = parseDryRunInput(args);
    assert.ok(typeof input !== 'string', String(input));
    return dryRun(r, input);
  };

  test('names the rule, the captures and the endpoint', () => {
    const result = run({ to: 'ticket-7@app.test', from: 'a@b.test', auth: ['dmarc=pass'] });
    assert.deepEqual(result.rcpt, { accepted: true });
    assert.deepEqual(result.rules.map((x) => x.result), ['matched', 'not reached']);
    assert.deepEqual(result.outcome, { action: 'deliver', rule: 'tickets', captures: { ticket: '7' }, deliveries: [{ url: 'https://app.test/tickets/7', signed: true, sync: false }], reply: null });
  });

  test('falls through to the route when a condition fails', () => {
    const result = run({ to: 'ticket-7@app.test', from: 'a@b.test' });
    assert.equal(result.outcome?.rule, null);
    assert.deepEqual(result.outcome?.deliveries.map((d) => d.url), ['https://app.test/inbound']);
  });

  test('a refusal at RCPT gives the reply', () => {
    const result = run({ to: 'support@app.test', from: 'x@spam.test' });
    assert.deepEqual(result.rcpt, { accepted: false, code: 550, reply: '5.7.1 Message rejected by policy', reason: 'rule-reject' });
    assert.equal(run({ to: 'who@else.test' }).rcpt.accepted, false);
  });

  test('bad input is named', () => {
    assert.match(String(parseDryRunInput({ to: 'a@b', headers: ['no colon'] })), /Name: value/);
    assert.match(String(parseDryRunInput({ to: 'a@b', auth: ['dmarc=great'] })), /check=result/);
    assert.match(String(parseDryRunInput({ to: null })), /recipient/);
  });
});
