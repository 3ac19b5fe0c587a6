import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSessions, readCookie, SESSION_COOKIE, SESSION_MS, sessionCookie } from '../../src/console/session.ts';

const TOKEN = 'session-test-token-0123456789';
const cookieHeader = (value: string) => `other=1; ${SESSION_COOKIE}=${value}; more=2`;

describe('console sessions', () => {
  test('a session issued for the token verifies, until it expires', () => {
    let now = 1_000_000;
    const sessions = createSessions(TOKEN, () => now);
    const { cookie, session } = sessions.issue();
    assert.deepEqual(sessions.verify(cookieHeader(cookie)), session);
    now += SESSION_MS - 1;
    assert.notEqual(sessions.verify(cookieHeader(cookie)), null);
    now += 1;
    assert.equal(sessions.verify(cookieHeader(cookie)), null);
  });

  test('refuses a cookie changed in any part, or made from another token', () => {
    const sessions = createSessions(TOKEN);
    const { cookie } = sessions.issue();
    const [expiry, nonce, mac] = cookie.split('.') as [string, string, string];
    const longer = `${Number(expiry) + 86_400_000}.${nonce}.${mac}`;
    const otherNonce = `${expiry}.${'A'.repeat(22)}.${mac}`;
    const flipped = `${expiry}.${nonce}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
    for (const forged of [longer, otherNonce, flipped, '', 'garbage', `${cookie}x`]) assert.equal(sessions.verify(cookieHeader(forged)), null, forged);
    assert.equal(createSessions('another-token-0123456789').verify(cookieHeader(cookie)), null, 'a new token ends every session');
    assert.equal(sessions.verify(undefined), null);
  });

  test('the CSRF token belongs to its session only', () => {
    const sessions = createSessions(TOKEN);
    const a = sessions.issue().session;
    const b = sessions.issue().session;
    assert.equal(sessions.checkCsrf(a, sessions.csrfToken(a)), true);
    assert.equal(sessions.checkCsrf(a, sessions.csrfToken(b)), false);
    assert.equal(sessions.checkCsrf(a, undefined), false);
    assert.equal(sessions.checkCsrf(a, ''), false);
    assert.equal(createSessions('another-token-0123456789').checkCsrf(a, sessions.csrfToken(a)), false);
  });

  test('recognises the admin token and nothing else, whatever the length', () => {
    const sessions = createSessions(TOKEN);
    assert.equal(sessions.isToken(TOKEN), true);
    for (const wrong of ['', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase()]) assert.equal(sessions.isToken(wrong), false);
  });

  test('the cookie is HttpOnly and SameSite=Strict, and Secure over HTTPS', () => {
    const plain = sessionCookie('v', { secure: false, maxAgeMs: SESSION_MS });
    assert.match(plain, /; HttpOnly/);
    assert.match(plain, /; SameSite=Strict/);
    assert.doesNotMatch(plain, /Secure/);
    assert.match(sessionCookie('v', { secure: true, maxAgeMs: 0 }), /; Max-Age=0; Secure$/);
    assert.equal(readCookie('a=1; b = 2', 'b'), '2');
    assert.equal(readCookie('ab=1', 'b'), null);
  });
});
