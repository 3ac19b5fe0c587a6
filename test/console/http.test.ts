import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { startConsoleHarness, TOKEN, type ConsoleHarness } from './harness.ts';

// The console's rules at the HTTP level, against a real mxpost: who may see
// and do what, and what the pages promise the browser.
describe('the console over HTTP', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let h: ConsoleHarness;
  before(async () => {
    redis = await startTestRedis();
    h = await startConsoleHarness(redis.url, { env: { MXPOST_RETENTION: '1h' } });
  });
  after(async () => {
    await h?.close();
    await redis?.dispose();
  });

  const get = (path: string, cookie?: string) => fetch(h.base + path, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const post = (path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}) => {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) for (const v of [value].flat()) body.append(name, v);
    return fetch(h.base + path, { method: 'POST', body, redirect: 'manual', headers });
  };
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const res = await post('/console/login', { token: TOKEN, next: '/console/' });
    assert.equal(res.status, 303);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await get('/console/', cookie)).text();
    return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(page)![1]! };
  }
  async function deadLetter(subject: string): Promise<string> {
    h.failing.plan(410);
    const id = `${await h.send({ subject, to: ['orders@fail.test'] })}-1`;
    await h.waitForState(id, 'dead-letter');
    return id;
  }

  test('is off without MXPOST_ADMIN_TOKEN', async () => {
    const endpoint = await startEndpoint();
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: `domains:\n  d.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n` });
    try {
      for (const path of ['/console/', '/console/login', '/console/assets/console.js']) {
        assert.equal((await fetch(`http://127.0.0.1:${mxpost.http.port}${path}`)).status, 404, path);
      }
    } finally {
      await mxpost.close();
      await endpoint.close();
    }
  });

  test('sends every page to sign-in without a session, and refuses every action', async () => {
    for (const path of ['/console/', '/console/messages?q=x', '/console/messages/01M8J1DMF46FZJC1W3H3RSXMP8', '/console/messages/01M8J1DMF46FZJC1W3H3RSXMP8/html', '/console/deliveries/x-1', '/console/dead-letters']) {
      const res = await get(path, 'mxpost_console=1999999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get('location'), `/console/login?next=${encodeURIComponent(path)}`);
    }
    const id = await deadLetter('no session, no replay');
    assert.equal((await post('/console/replay', { ids: id, confirm: 'yes' })).status, 403);
    assert.equal((await h.api(`/v1/deliveries/${id}`)).body.state, 'dead-letter');
  });

  test('signs in only with the admin token, and only ever back into the console', async () => {
    const wrong = await post('/console/login', { token: 'not-the-token-0123456789', next: '/console/' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    for (const next of ['//evil.test/', '/\\evil.test', 'https://evil.test/console/', '/v1/dead-letters']) {
      const res = await post('/console/login', { token: TOKEN, next });
      assert.equal(res.headers.get('location'), '/console/', next);
    }
    const res = await post('/console/login', { token: TOKEN, next: '/console/dead-letters?route=fail.test' });
    assert.equal(res.headers.get('location'), '/console/dead-letters?route=fail.test');
    assert.match(res.headers.get('set-cookie')!, /^mxpost_console=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  });

  test('signing out clears the session cookie, and needs the session’s CSRF token too', async () => {
    const { cookie, csrf } = await signIn();
    assert.equal((await post('/console/logout', {}, { cookie })).status, 403, 'no CSRF token: a forged sign-out does nothing');
    const res = await post('/console/logout', { csrf }, { cookie });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/console/login');
    assert.match(res.headers.get('set-cookie')!, /^mxpost_console=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
  });

  test('a replay needs the session’s CSRF token and a same-origin request', async () => {
    const { cookie, csrf } = await signIn();
    const other = await signIn();
    const id = await deadLetter('csrf');
    h.failing.setFallback(200);
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['no token', { ids: id, confirm: 'yes' }, { cookie }],
      ['another session’s token', { ids: id, confirm: 'yes', csrf: other.csrf }, { cookie }],
      ['from another site', { ids: id, confirm: 'yes', csrf }, { cookie, 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [why, form, headers] of attempts) assert.equal((await post('/console/replay', form, headers)).status, 403, why);
    assert.equal((await h.api(`/v1/deliveries/${id}`)).body.state, 'dead-letter', 'nothing was replayed');
    const res = await post('/console/replay', { ids: id, confirm: 'yes', csrf }, { cookie, 'sec-fetch-site': 'same-origin' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/console/deliveries/${id}?replayed=1`);
    await h.waitForState(id, 'completed');
  });

  test('asks before replaying every dead letter of a route, then replays them all', async () => {
    const { cookie, csrf } = await signIn();
    const ids = [await deadLetter('route replay one'), await deadLetter('route replay two')];
    h.failing.setFallback(200);
    const before = h.failing.requests.length;
    const confirm = await post('/console/replay', { route: 'FAIL.test', csrf }, { cookie });
    assert.equal(confirm.status, 200);
    const page = await confirm.text();
    assert.match(page, /Replay every dead letter of fail\.test\?/);
    for (const id of ids) assert.ok(page.includes(id), `the confirmation lists ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(h.failing.requests.length, before, 'nothing is sent before the confirmation');
    const done = await post('/console/replay', { route: 'fail.test', csrf, confirm: 'yes' }, { cookie });
    assert.match(done.headers.get('location')!, /^\/console\/dead-letters\?replayed=\d+&route=fail\.test$/);
    for (const id of ids) await h.waitForState(id, 'completed');
  });

  test('replays a selection of dead letters after confirming, and only those', async () => {
    const { cookie, csrf } = await signIn();
    const [a, b, untouched] = [await deadLetter('selection one'), await deadLetter('selection two'), await deadLetter('not selected')];
    h.failing.setFallback(200);
    const confirm = await (await post('/console/replay', { ids: [a, b], csrf }, { cookie })).text();
    assert.match(confirm, /Replay 2 dead letters\?/);
    const done = await post('/console/replay', { ids: [a, b], csrf, confirm: 'yes' }, { cookie });
    assert.equal(done.headers.get('location'), '/console/dead-letters?replayed=2');
    for (const id of [a, b]) await h.waitForState(id, 'completed');
    assert.equal((await h.api(`/v1/deliveries/${untouched}`)).body.state, 'dead-letter');
  });

  test('the admin API accepts a console session for reading, never for acting', async () => {
    const { cookie } = await signIn();
    const id = await deadLetter('api with a cookie');
    assert.equal((await get('/v1/messages', cookie)).status, 200);
    assert.equal((await get(`/v1/deliveries/${id}`, cookie)).status, 200);
    assert.equal((await get('/v1/messages')).status, 401, 'neither token nor session');
    const replay = await fetch(`${h.base}/v1/dead-letters/${id}/replay`, { method: 'POST', headers: { cookie } });
    assert.equal(replay.status, 401);
    assert.equal((await h.api(`/v1/deliveries/${id}`)).body.state, 'dead-letter');
  });

  test('indexes each accepted message once, with every route’s delivery, kept for MXPOST_RETENTION', async () => {
    const queueId = await h.send({ subject: 'Two routes', to: ['a@ok.test', 'b@fail.test', 'c@ok.test'] });
    await h.waitForState(`${queueId}-1`, 'completed');
    const list = await h.api(`/v1/messages?q=${queueId}`);
    assert.equal(list.body.messages.length, 1);
    const [row] = list.body.messages;
    assert.deepEqual([...row.routes].sort(), ['fail.test', 'ok.test']);
    assert.deepEqual([...row.rcptTo].sort(), ['a@ok.test', 'b@fail.test', 'c@ok.test']);
    assert.deepEqual(row.auth, { spf: 'pass', dkim: 'pass', dmarc: 'pass', arc: 'none', quarantined: false });
    assert.equal(Object.keys(row.states).length, 2);
    assert.equal(list.body.retentionMs, 3_600_000);
    const shown = await h.api(`/v1/messages/${queueId}`);
    assert.equal(shown.body.deliveries.length, 2);
    assert.equal(shown.body.payload.message.subject, 'Two routes');
    const client = new Redis(redis.url);
    const ttl = await client.pttl(`${h.mxpost.prefix}:message:${queueId}`);
    client.disconnect();
    assert.ok(ttl > 3_590_000 && ttl <= 3_600_000, `the summary expires in ${ttl} ms`);
    assert.equal((await h.api('/v1/messages/01M8J1DMF46FZJC1W3H3RSXMP8')).status, 404);
    assert.equal((await h.api('/v1/messages?since=soon')).status, 400);
  });

  test('escapes every value that came from the email on the message page and the list', async () => {
    const { cookie } = await signIn();
    const queueId = await h.send({
      subject: '<script>alert("subject")</script>',
      from: '"<img src=x onerror=alert(1)>" <mallory@sender.test>',
      headers: ['X-Note: "><svg onload=alert(2)>'],
      text: '</pre><script>alert(3)</script>',
    });
    await h.waitForState(`${queueId}-1`, 'completed');
    for (const path of [`/console/messages/${queueId}`, `/console/messages?q=${queueId}`]) {
      const page = await (await get(path, cookie)).text();
      assert.doesNotMatch(page, /<script>alert|<img src=x|<svg onload|<\/pre><script/, path);
      assert.match(page, /&lt;script&gt;alert\(&quot;subject&quot;\)&lt;\/script&gt;/, path);
    }
  });

  test('pages allow no inline script and no framing; the message HTML is served sandboxed, loading nothing', async () => {
    const { cookie } = await signIn();
    const queueId = await h.send({ subject: 'html', html: '<p>hi</p>' });
    const page = await get(`/console/messages/${queueId}`, cookie);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(await page.text(), /<script>/, 'no inline script');
    assert.match(await (await get(`/console/messages/${queueId}`, cookie)).text(), /<iframe class="html-body" sandbox=""/);
    const frame = await get(`/console/messages/${queueId}/html`, cookie);
    assert.equal(await frame.text(), '<p>hi</p>');
    const frameCsp = frame.headers.get('content-security-policy')!;
    assert.match(frameCsp, /^sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'/);
    assert.doesNotMatch(frameCsp, /script-src|http/);
  });

  test('the overview reports queue depth by state and the endpoint whose circuit opened', async () => {
    const queueId = await h.send({ subject: 'to a dead endpoint', to: ['x@down.test'] });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { body } = await h.api('/v1/overview');
      const down = body.endpoints.find((e: { endpoint: string }) => e.endpoint.endsWith('/down'));
      if (down?.state === 'open') {
        assert.equal(down.failureRate, 1);
        assert.ok(body.queue.delayed >= 1, `the delivery waits: ${JSON.stringify(body.queue)}`);
        assert.deepEqual(Object.keys(body.queue).sort(), ['active', 'completed', 'dead-letter', 'delayed', 'prioritized', 'waiting']);
        break;
      }
      assert.ok(Date.now() < deadline, `no open circuit reported for ${queueId}: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
