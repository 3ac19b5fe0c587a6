import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { newSecret } from '../../src/delivery/sign.ts';
import { createRecipientCallbacks, type RecipientCallback } from '../../src/routing/callback.ts';
import { startEndpoint } from '../support/endpoint.ts';

const rcpt = { recipient: 'Jane@d.test', domain: 'd.test', localPart: 'jane', tag: null };
const quiet = { onInvalidPayload: () => undefined };

async function setup(plan: Parameters<typeof startEndpoint>[0], callback: Partial<RecipientCallback> = {}) {
  const endpoint = await startEndpoint(plan, quiet);
  let clock = Date.now();
  const callbacks = createRecipientCallbacks({ now: () => clock });
  const check: RecipientCallback = { url: endpoint.url('/recipients'), timeoutMs: 500, cacheMs: 60_000, onError: 'tempfail', ...callback };
  after(() => callbacks.close());
  return { endpoint, callbacks, check, advance: (ms: number) => (clock += ms) };
}

test('the callback request is signed per Standard Webhooks with the route secrets and names the recipient', async () => {
  const secret = newSecret();
  const { endpoint, callbacks, check } = await setup([204]);
  try {
    assert.equal(await callbacks.ask(check, { secrets: [secret] }, rcpt), 'exists');
    const [request] = endpoint.requests;
    assert.equal(request!.path, '/recipients');
    const body = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>);
    assert.deepEqual(body, { type: 'recipient.check', recipient: 'Jane@d.test', domain: 'd.test', localPart: 'jane', tag: null });
  } finally {
    await endpoint.close();
  }
});

test('2xx means exists, 404 and 410 mean unknown, any other status or a timeout is an error', async () => {
  const { endpoint, callbacks, check } = await setup([200, 404, 410, 500, 429, 302, { hang: true }], { cacheMs: 0 });
  try {
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await callbacks.ask(check, { secrets: [] }, rcpt));
    assert.deepEqual(answers, ['exists', 'unknown', 'unknown', 'error', 'error', 'error', 'error']);
  } finally {
    await endpoint.close();
  }
});

test('answers are cached per recipient for the configured time, errors never', async () => {
  const { endpoint, callbacks, check, advance } = await setup([500, 404, 200]);
  try {
    assert.equal(await callbacks.ask(check, { secrets: [] }, rcpt), 'error');
    assert.equal(await callbacks.ask(check, { secrets: [] }, rcpt), 'unknown');
    assert.equal(await callbacks.ask(check, { secrets: [] }, { ...rcpt, recipient: 'JANE@D.TEST' }), 'unknown');
    assert.equal(endpoint.requests.length, 2);
    advance(60_001);
    assert.equal(await callbacks.ask(check, { secrets: [] }, rcpt), 'exists');
    assert.equal(endpoint.requests.length, 3);
  } finally {
    await endpoint.close();
  }
});

test('an unreachable callback is an error', async () => {
  const { endpoint, callbacks, check } = await setup([]);
  await endpoint.close();
  assert.equal(await callbacks.ask(check, { secrets: [] }, rcpt), 'error');
});

test('a callback on a link-local address is refused like a delivery would be, as an error', async () => {
  const { endpoint, callbacks, check } = await setup([]);
  try {
    assert.equal(await callbacks.ask({ ...check, url: 'http://169.254.169.254/latest' }, { secrets: [] }, rcpt), 'error');
    assert.equal(endpoint.requests.length, 0);
  } finally {
    await endpoint.close();
  }
});
