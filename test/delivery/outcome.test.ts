import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyError, classifyResponse } from '../../src/delivery/outcome.ts';

const response = (status: number, bodyStart = '', headers: Record<string, string> = {}) => ({ status, bodyStart, headers });

test('counts every 2xx as delivered', () => {
  for (const status of [200, 201, 202, 204, 299]) assert.equal(classifyResponse(response(status)).kind, 'delivered');
});

test('retries 5xx and 429, with the status and the start of the body as the reason', () => {
  assert.deepEqual(classifyResponse(response(503, '  upstream\n  down ')), { kind: 'retry', reason: 'HTTP 503: upstream down' });
  assert.equal(classifyResponse(response(429)).kind, 'retry');
});

test('does not follow a redirect and says where it pointed', () => {
  const outcome = classifyResponse(response(301, '', { location: 'https://elsewhere.test/' }));
  assert.equal(outcome.kind, 'retry');
  assert.match(outcome.kind === 'retry' ? outcome.reason : '', /301 redirect to https:\/\/elsewhere\.test\/ \(redirects are not followed\)/);
});

test('retries timeouts and connection errors, naming them', () => {
  assert.deepEqual(classifyError(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' })), { kind: 'retry', reason: 'timeout' });
  const refused = classifyError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
  assert.deepEqual(refused, { kind: 'retry', reason: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9' });
});
