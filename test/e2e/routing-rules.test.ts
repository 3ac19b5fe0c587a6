import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { newSecret } from '../../src/delivery/sign.ts';
import { makeKey, sign } from '../auth/signing.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { runMxpost } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';


// Rules through the whole service: real SMTP in, real endpoints, real Redis,
// real DKIM signatures checked against a DNS server on loopback, and the
// admin API and CLI for held deliveries.
describe('routing rules, end to end', () => {
  const key = makeKey('trusted.test', 'k1');
  const SECRET = newSecret();
  const AUDIT = newSecret();
  const TOKEN = 'rules-admin-token';
  let dns: DnsServer;
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let main: Awaited<ReturnType<typeof startEndpoint>>;
  let audit: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;
  let admin: string;

  before(async () => {
    dns = await startDnsServer({ ...key.zone, 'trusted.test': [{ TXT: 'v=spf1 ip4:127.0.0.1 -all' }], '_dmarc.trusted.test': [{ TXT: 'v=DMARC1; p=reject' }] });
    redis = await startTestRedis();
    main = await startEndpoint();
    audit = await startEndpoint();
    mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { SECRET, AUDIT, MXPOST_DNS_SERVERS: dns.address, MXPOST_ADMIN_TOKEN: TOKEN },
      routes: `
domains:
  app.test:
    url: ${main.url('/default')}
    secret: env:SECRET
    recipients: [support]
    rules:
      - name: blocked
        priority: 100
        match: { from: "*@blocked.test" }
        action: reject
        code: 550
        text: "5.7.1 Mail from blocked.test is not accepted here"
      - name: tickets
        match: { recipient: "/^ticket-(?<ticket>[0-9]+)$/" }
        to: ${main.url('/tickets/{ticket}')}
      - name: billing
        match: { recipient: billing }
        to: [${main.url('/billing')}, { url: "${audit.url('/audit')}", secret: env:AUDIT }]
      - name: spam
        match: { headers: { X-Spam-Flag: "YES" } }
        action: drop
      - name: virus
        match: { headers: { X-Virus: "/found/i" } }
        action: reject
        text: Infected content
      - name: trusted
        match: { auth: { dmarc: pass, dkim: pass } }
        to: ${main.url('/trusted')}
      - name: review
        match: { recipient: "review-*" }
        action: hold
`,
    });
    admin = `http://127.0.0.1:${mxpost.http.port}`;
  });

  after(async () => {
    await mxpost?.close();
    await Promise.all([main?.close(), audit?.close()]);
    await redis?.dispose();
    await dns?.stop();
  });

  const send = (to: string[], fields: Parameters<typeof testMessage>[0] = {}, from = 'someone@sender.test') =>
    sendMail(mxpost.smtpPort, { from, to, message: testMessage(fields) });
  const bySubject = (endpoint: typeof main, subject: string) => endpoint.requests.filter((r) => r.json?.message?.subject === subject);
  const api = async (method: string, path: string) => {
    const res = await fetch(`${admin}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const verify = (secret: string, request: { body: string; headers: Record<string, unknown> }) =>
    new Webhook(secret.slice('whsec_'.length)).verify(request.body, request.headers as Record<string, string>);

  test('a named capture picks the endpoint URL, and the payload names the rule', async () => {
    const result = await send(['ticket-4821@app.test'], { subject: 'ticket reply' });
    assert.equal(result.data?.code, 250);
    await waitUntil(() => bySubject(main, 'ticket reply').length === 1);
    const [request] = bySubject(main, 'ticket reply');
    assert.equal(request!.path, '/tickets/4821');
    assert.deepEqual(request!.json.route.rule, { name: 'tickets', captures: { ticket: '4821' } });
    verify(SECRET, request!);
  });

  test('a rule with two endpoints makes two deliveries, each signed with its own secret', async () => {
    const result = await send(['billing@app.test'], { subject: 'invoice' });
    assert.equal(result.data?.code, 250);
    await waitUntil(() => bySubject(main, 'invoice').length === 1 && bySubject(audit, 'invoice').length === 1);
    const [billing] = bySubject(main, 'invoice');
    const [copy] = bySubject(audit, 'invoice');
    assert.equal(billing!.path, '/billing');
    assert.equal(copy!.path, '/audit');
    assert.notEqual(billing!.headers['webhook-id'], copy!.headers['webhook-id'], 'each its own delivery');
    verify(SECRET, billing!);
    verify(AUDIT, copy!);
    assert.throws(() => verify(SECRET, copy!), 'the audit copy is not signed with the domain secret');
  });

  test('reject on the sender refuses at RCPT with the rule’s code and text', async () => {
    const result = await send(['support@app.test'], { subject: 'blocked' }, 'x@blocked.test');
    assert.equal(result.rcpt[0]!.code, 550);
    assert.match(result.rcpt[0]!.text, /^5\.7\.1 Mail from blocked\.test is not accepted here$/);
    assert.equal(result.data, null);
  });

  test('reject on a header refuses the message at DATA, and nothing is delivered', async () => {
    const result = await send(['support@app.test'], { subject: 'infected', headers: ['X-Virus: FOUND eicar'] });
    assert.equal(result.rcpt[0]!.code, 250);
    assert.equal(result.data?.code, 550);
    assert.match(result.data!.text, /^5\.7\.1 Infected content$/);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /mxpost_messages_rejected_total\{reason="policy"\} [1-9]/);
  });

  test('drop accepts, delivers nothing, and is counted', async () => {
    const result = await send(['support@app.test'], { subject: 'spam', headers: ['X-Spam-Flag: YES'] });
    assert.equal(result.data?.code, 250);
    // A message sent after it is delivered: the dropped one would have been by then.
    await send(['support@app.test'], { subject: 'after spam' });
    await waitUntil(() => bySubject(main, 'after spam').length === 1);
    assert.equal(bySubject(main, 'spam').length, 0);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /mxpost_rule_actions_total\{domain="app\.test",rule="spam",action="drop"\} 1/);

    // Recorded where the operator looks: the message index and the console say where it went.
    const queueId = /queued as (\S+)/.exec(result.data!.text)![1]!;
    const shown = (await api('GET', `/v1/messages/${queueId}`)).body;
    assert.deepEqual([shown.message.subject, shown.message.deliveries, shown.message.dropped], ['spam', [], [{ recipient: 'support@app.test', rule: 'spam' }]]);
    const login = await fetch(`${admin}/console/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN, next: '/console/' }), redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${admin}/console/messages/${queueId}`, { headers: { cookie } })).text();
    assert.match(page, /Dropped by rule <code>spam<\/code>: <code>support@app\.test<\/code>/);
    assert.match(page, /class="badge muted">dropped</);
  });

  test('auth verdicts: a DKIM-signed message that passes DMARC takes the trusted rule; an unsigned one does not', async () => {
    const raw = testMessage({ from: 'Bank <news@trusted.test>', subject: 'signed' });
    const signed = await sign(raw, key);
    assert.equal((await sendMail(mxpost.smtpPort, { from: 'news@trusted.test', to: ['support@app.test'], message: signed.toString() })).data?.code, 250);
    assert.equal((await send(['support@app.test'], { from: 'Bank <news@trusted.test>', subject: 'unsigned' }, 'news@trusted.test')).data?.code, 250);
    await waitUntil(() => bySubject(main, 'signed').length === 1 && bySubject(main, 'unsigned').length === 1);
    assert.equal(bySubject(main, 'signed')[0]!.path, '/trusted');
    assert.equal(bySubject(main, 'signed')[0]!.json.auth.dmarc.result, 'pass');
    assert.equal(bySubject(main, 'unsigned')[0]!.path, '/default');
  });

  test('hold keeps the delivery until released from the API; a dropped one never goes', async () => {
    const first = await send(['review-1@app.test'], { subject: 'held one' });
    const second = await send(['review-2@app.test'], { subject: 'held two' });
    assert.equal(first.data?.code, 250);
    assert.equal(second.data?.code, 250);
    const idOf = (reply: typeof first) => `${/queued as (\S+)/.exec(reply.data!.text)![1]}-1`;
    const [one, two] = [idOf(first), idOf(second)];

    const listed = await api('GET', '/v1/held?rule=review');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.held.map((v: { id: string }) => v.id).sort(), [one, two].sort());
    assert.equal(listed.body.held[0].state, 'held');
    assert.equal(listed.body.held[0].held.rule, 'review');
    assert.equal((await api('GET', `/v1/deliveries/${one}`)).body.state, 'held');
    const queueId = one.slice(0, -2);
    assert.equal((await api('GET', `/v1/messages/${queueId}`)).body.deliveries[0].state, 'held');
    const listedMessages = (await api('GET', `/v1/messages?q=${queueId}`)).body;
    assert.deepEqual(listedMessages.messages.map((m: { states: Record<string, string> }) => m.states), [{ [one]: 'held' }], 'the console lists it as held');

    assert.deepEqual((await api('POST', `/v1/held/${one}/release`)).body, { released: [one] });
    await waitUntil(() => bySubject(main, 'held one').length === 1);
    assert.equal(bySubject(main, 'held one')[0]!.headers['webhook-id'], one);
    assert.equal((await api('POST', `/v1/held/${one}/release`)).status, 404, 'released already');

    assert.deepEqual((await api('POST', `/v1/held/${two}/drop`)).body, { dropped: [two] });
    assert.equal((await api('GET', '/v1/held')).body.held.length, 0);
    assert.equal((await api('POST', '/v1/held/release')).status, 400, 'a bulk release names what it releases');
    // Sent after the drop and delivered: the dropped one would have gone first.
    await send(['support@app.test'], { subject: 'after drop' });
    await waitUntil(() => bySubject(main, 'after drop').length === 1);
    assert.equal(bySubject(main, 'held two').length, 0);
  });

  test('the CLI lists and releases held deliveries', async () => {
    const sent = await send(['review-cli@app.test'], { subject: 'held for the cli' });
    const id = `${/queued as (\S+)/.exec(sent.data!.text)![1]}-1`;
    const env = { MXPOST_REDIS_URL: redis.url, MXPOST_REDIS_PREFIX: mxpost.prefix };
    const list = await runMxpost(['held', 'list', '--route', 'APP.test'], env);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id} {2}since \\S+ {2}rule review {2}app\\.test {2}review-cli@app\\.test {2}held for the cli$`, 'm'));
    const release = await runMxpost(['held', 'release', '--rule', 'review'], env);
    assert.equal(release.stdout.trim(), `released 1: ${id}`);
    await waitUntil(() => bySubject(main, 'held for the cli').length === 1);
    const missing = await runMxpost(['held', 'drop', id], env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no held delivery/);
  });

  test('the dry run, from the API and the CLI, says the same as the mail did', async () => {
    const run = await api('GET', `/v1/routes/test?to=ticket-77@app.test&from=a@b.test`);
    assert.equal(run.status, 200);
    assert.equal(run.body.outcome.rule, 'tickets');
    assert.deepEqual(run.body.outcome.deliveries.map((d: { url: string }) => d.url), [main.url('/tickets/77')]);
    const header = await api('GET', `/v1/routes/test?to=support@app.test&header=${encodeURIComponent('X-Spam-Flag: yes')}`);
    assert.equal(header.body.outcome.action, 'drop');
    assert.equal((await api('GET', '/v1/routes/test?to=support@app.test&auth=dmarc=great')).status, 400);

    const dir = await mkdtemp(join(tmpdir(), 'mxpost-rules-'));
    try {
      const file = join(dir, 'routes.yaml');
      await writeFile(file, `domains:\n  app.test:\n    url: https://app.test/in\n    recipients: [support]\n    rules:\n      - name: vip\n        match: { from: "*@vip.test", headers: { X-Level: gold } }\n        to: https://app.test/vip\n`);
      const printed = await runMxpost(['routes', 'test', 'support@app.test', '--from', 'boss@vip.test', '--header', 'X-Level: gold', '--routes', file], {});
      assert.equal(printed.status, 0, printed.stderr);
      assert.match(printed.stdout, /rule vip \(priority 0, deliver\): matched/);
      assert.match(printed.stdout, /DATA {6}deliver \(rule vip\)/);
      assert.match(printed.stdout, /→ https:\/\/app\.test\/vip {2}unsigned/);
      const other = await runMxpost(['routes', 'test', 'support@app.test', '--from', 'boss@vip.test', '--routes', file, '--json'], {});
      assert.equal(JSON.parse(other.stdout).outcome.rule, null);
      const bad = await runMxpost(['routes', 'test', 'support@app.test', '--header', 'nocolon', '--routes', file], {});
      assert.equal(bad.status, 78);
      assert.match(bad.stderr, /a header is "Name: value"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a held delivery nobody releases', () => {
  test('is dead-lettered when MXPOST_RETENTION has passed, with the reason', async () => {
    const redis = await startTestRedis();
    const endpoint = await startEndpoint();
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { MXPOST_RETENTION: '2s', MXPOST_ADMIN_TOKEN: 'held-expiry-admin-token' },
      routes: `domains:\n  app.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n    rules:\n      - { name: all, action: hold }\n`,
    });
    try {
      const sent = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['x@app.test'], message: testMessage({ subject: 'forgotten' }) });
      const id = `${/queued as (\S+)/.exec(sent.data!.text)![1]}-1`;
      const show = async () => (await (await fetch(`http://127.0.0.1:${mxpost.http.port}/v1/deliveries/${id}`, { headers: { authorization: 'Bearer held-expiry-admin-token' } })).json()) as any;
      assert.equal((await show()).state, 'held');
      for (let i = 0; i < 100 && (await show()).state !== 'dead-letter'; i++) await new Promise((r) => setTimeout(r, 100));
      assert.match((await show()).reason, /^held by rule all since .* and not released within MXPOST_RETENTION$/);
      assert.equal(endpoint.requests.length, 0);
      // Replayed, it is delivered rather than held again.
      const replay = await fetch(`http://127.0.0.1:${mxpost.http.port}/v1/dead-letters/${id}/replay`, { method: 'POST', headers: { authorization: 'Bearer held-expiry-admin-token' } });
      assert.equal(replay.status, 200);
      const [delivered] = await endpoint.waitFor(1);
      assert.equal(delivered!.headers['webhook-id'], id);
    } finally {
      await mxpost.close();
      await endpoint.close();
      await redis.dispose();
    }
  });
});

