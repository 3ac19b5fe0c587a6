import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newSecret } from '../../src/delivery/sign.ts';
import { mintReplyAddress, verifyReplyToken } from '../../src/routing/reply-address.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const DAY = 86_400_000;
const tokenOf = (address: string) => /^[^+]+\+([^@]+)@/.exec(address)![1]!;

test('a minted reply address verifies with its secret and carries its id and expiry', () => {
  const secret = newSecret();
  const address = mintReplyAddress({ domain: 'D.test', id: '4821', secret, ttlMs: 30 * DAY, now: NOW });
  assert.match(address, /^reply\+[a-z2-7]+@d\.test$/);
  assert.ok(address.split('@')[0]!.length <= 64);
  assert.deepEqual(verifyReplyToken({ token: tokenOf(address), domain: 'd.test', secrets: [secret], now: NOW + DAY }), {
    valid: true,
    id: '4821',
    expiresAt: new Date(NOW + 30 * DAY).toISOString(),
    reason: null,
  });
});

test('a token stays valid when an MTA upper-cases the local part', () => {
  const secret = newSecret();
  const token = tokenOf(mintReplyAddress({ domain: 'd.test', id: 'ticket:77', secret, ttlMs: null }));
  const verdict = verifyReplyToken({ token: token.toUpperCase(), domain: 'd.test', secrets: [secret] });
  assert.deepEqual(verdict, { valid: true, id: 'ticket:77', expiresAt: null, reason: null });
});

test('a token signed with another secret, for another domain or altered is forged, and its id is not reported', () => {
  const secret = newSecret();
  const token = tokenOf(mintReplyAddress({ domain: 'd.test', id: '4821', secret, ttlMs: DAY, now: NOW }));
  const forged = { valid: false, id: null, expiresAt: null, reason: 'forged' };
  assert.deepEqual(verifyReplyToken({ token, domain: 'd.test', secrets: [newSecret()], now: NOW }), forged);
  assert.deepEqual(verifyReplyToken({ token, domain: 'other.test', secrets: [secret], now: NOW }), forged);
  const altered = token.slice(0, 12) + (token[12] === 'a' ? 'b' : 'a') + token.slice(13);
  assert.deepEqual(verifyReplyToken({ token: altered, domain: 'd.test', secrets: [secret], now: NOW }), forged);
});

test('a token past its expiry is expired, with its id and expiry still reported', () => {
  const secret = newSecret();
  const token = tokenOf(mintReplyAddress({ domain: 'd.test', id: '4821', secret, ttlMs: DAY, now: NOW }));
  const verdict = verifyReplyToken({ token, domain: 'd.test', secrets: [secret], now: NOW + 2 * DAY });
  assert.deepEqual(verdict, { valid: false, id: '4821', expiresAt: new Date(NOW + DAY).toISOString(), reason: 'expired' });
});

test('a token signed with the previous secret verifies during a rotation', () => {
  const [current, previous] = [newSecret(), newSecret()];
  const token = tokenOf(mintReplyAddress({ domain: 'd.test', id: '9', secret: previous, ttlMs: DAY, now: NOW }));
  assert.equal(verifyReplyToken({ token, domain: 'd.test', secrets: [current, previous], now: NOW }).valid, true);
});

test('text that is not a token is malformed', () => {
  for (const token of ['', 'abc', 'not-base32!', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']) {
    assert.equal(verifyReplyToken({ token, domain: 'd.test', secrets: [newSecret()] }).reason, 'malformed', token);
  }
});

test('an id that would make the local part longer than 64 octets, or has odd characters, is refused when minting', () => {
  assert.throws(() => mintReplyAddress({ domain: 'd.test', id: 'x'.repeat(21), secret: newSecret(), ttlMs: null }), /at most 20/);
  assert.throws(() => mintReplyAddress({ domain: 'd.test', id: 'a b', secret: newSecret(), ttlMs: null }), /letters, digits/);
  const longest = mintReplyAddress({ domain: 'd.test', id: 'x'.repeat(20), secret: newSecret(), ttlMs: DAY });
  assert.ok(longest.split('@')[0]!.length <= 64);
});
