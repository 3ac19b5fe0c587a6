import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyError, classifyResponse, parseRetryAfter, RETRY_AFTER_CAP_MS } from '../../src/delivery/outcome.ts';

const policy = { permanentStatuses: new Set([410, 422]), clientErrorAttempts: 3 };
const response = (status: number, bodyStart = '', headers: Record<string, string> = {}) => ({ status, bodyStart, headers });

test('counts every 2xx as delivered', () => {
  for (const status of [200, 201, 202, 204, 299]) assert.equal(classifyResponse(response(status), policy, 1).kind, 'delivered');
});

test('dead-letters 410 and the statuses the route lists as permanent at the first attempt', () => {
  assert.equal(classifyResponse(response(410, 'gone'), policy, 1).kind, 'permanent');
  assert.equal(classifyResponse(response(422), policy, 1).kind, 'permanent');
});

test('retries 5xx, 429 and 408, with the status and the start of the body as the reason', () => {
  assert.deepEqual(classifyResponse(response(503, '  upstream\n  down '), policy, 9), { kind: 'retry', status: 503, reason: 'HTTP 503: upstream down' });
  assert.equal(classifyResponse(response(429), policy, 50).kind, 'retry');
  assert.equal(classifyResponse(response(408), policy, 50).kind, 'retry');
});

test('honours Retry-After in seconds and as an HTTP date', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  const seconds = classifyResponse(response(429, '', { 'retry-after': '120' }), policy, 1, now);
  assert.equal(seconds.kind === 'retry' && seconds.retryAfterMs, 120_000);
  const date = classifyResponse(response(503, '', { 'retry-after': 'Sat, 28 Nov 2026 12:05:00 GMT' }), policy, 1, now);
  assert.equal(date.kind === 'retry' && date.retryAfterMs, 300_000);
});

test('caps Retry-After, and ignores one that cannot be read', () => {
  assert.equal(parseRetryAfter('999999', 0), RETRY_AFTER_CAP_MS);
  assert.equal(parseRetryAfter('soon', 0), null);
  assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', 5000), 0, 'a date in the past means now');
});

test('retries another 4xx a few times, then dead-letters it', () => {
  assert.equal(classifyResponse(response(404), policy, 1).kind, 'retry');
  assert.equal(classifyResponse(response(404), policy, 2).kind, 'retry');
  assert.equal(classifyResponse(response(404), policy, 3).kind, 'permanent');
});

test('does not follow a redirect and says where it pointed', () => {
  const outcome = classifyResponse(response(301, '', { location: 'https://elsewhere.test/' }), policy, 1);
  assert.equal(outcome.kind, 'retry');
  assert.match(outcome.kind === 'retry' ? outcome.reason : '', /301 redirect to https:\/\/elsewhere\.test\/: redirects are not followed/);
  assert.equal(classifyResponse(response(302), policy, 3).kind, 'permanent');
});

test('retries timeouts, connection and DNS errors, naming them', () => {
  assert.deepEqual(classifyError(Object.assign(new Error('aborted'), { name: 'TimeoutError' }), 30_000), { kind: 'retry', reason: 'timeout: no complete response within 30000 ms' });
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 1).kind, 'retry');
  assert.deepEqual(classifyError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 1), { kind: 'retry', reason: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9' });
  assert.equal(classifyError(Object.assign(new Error('getaddrinfo ENOTFOUND x.test'), { code: 'ENOTFOUND' }), 1).kind, 'retry');
});

test('does not retry its own bugs or a refused endpoint address', () => {
  assert.equal(classifyError(new TypeError('cannot read properties of undefined'), 1).kind, 'permanent');
  assert.equal(classifyError(Object.assign(new Error('endpoint is link-local'), { name: 'EndpointAddressError' }), 1).kind, 'permanent');
});
