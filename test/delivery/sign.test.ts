import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { newSecret, secretProblem, signatureHeader } from '../../src/delivery/sign.ts';

test('signs so that the standardwebhooks library verifies it, with every secret during rotation', () => {
  const [current, previous] = [newSecret(), newSecret()];
  const body = JSON.stringify({ id: 'd-1', message: { subject: 'héllo' } });
  const timestamp = Math.floor(Date.now() / 1000);
  const header = signatureHeader([current, previous], 'd-1', timestamp, body);
  assert.equal(header.split(' ').length, 2);
  for (const secret of [current, previous]) {
    const verified = new Webhook(secret).verify(body, { 'webhook-id': 'd-1', 'webhook-timestamp': String(timestamp), 'webhook-signature': header });
    assert.deepEqual(verified, JSON.parse(body));
  }
});

test('a changed body, id or old timestamp fails verification', () => {
  const secret = newSecret();
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': 'd-1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader([secret], 'd-1', timestamp, '{"a":1}') };
  assert.throws(() => new Webhook(secret).verify('{"a":2}', headers), /No matching signature/);
  assert.throws(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'd-2' }), /No matching signature/);
  const old = timestamp - 3600;
  const oldHeaders = { 'webhook-id': 'd-1', 'webhook-timestamp': String(old), 'webhook-signature': signatureHeader([secret], 'd-1', old, '{"a":1}') };
  assert.throws(() => new Webhook(secret).verify('{"a":1}', oldHeaders), /too old/);
});

test('accepts only whsec_ secrets of 24 to 64 bytes, without echoing them', () => {
  assert.equal(secretProblem(newSecret()), null);
  assert.match(secretProblem('hunter2hunter2') ?? '', /must start with "whsec_"/);
  assert.match(secretProblem('whsec_dGVzdA==') ?? '', /24 to 64 bytes, this one has 4/);
  assert.match(secretProblem('whsec_not base64!') ?? '', /base64/);
  assert.doesNotMatch(secretProblem('hunter2hunter2') ?? '', /hunter2/);
});
