import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authservIdOf, readHeaderFields, withoutOwnAuthenticationResults } from '../../src/auth/headers.ts';

describe('Authentication-Results claiming our authserv-id', () => {
  test('the authserv-id is read past comments, version and case (RFC 8601 2.2)', () => {
    assert.equal(authservIdOf('mx.receiver.test; spf=pass'), 'mx.receiver.test');
    assert.equal(authservIdOf(' (forged (nested)) MX.Receiver.TEST 1; dkim=pass'), 'mx.receiver.test');
    assert.equal(authservIdOf('"mx.receiver.test"; none'), 'mx.receiver.test');
    assert.equal(authservIdOf('mx.receiver.test(comment); none'), 'mx.receiver.test');
    assert.equal(authservIdOf('mx.receiver.test.example; none'), 'mx.receiver.test.example');
  });

  test('are removed from the delivered message, folded lines and all; other hosts’ results and the body stay byte for byte', () => {
    const raw = Buffer.from(
      [
        'Authentication-Results: mx.receiver.test;',
        '\tdkim=pass header.d=bank.test; dmarc=pass',
        'Authentication-Results: mx.upstream.test; spf=pass smtp.mailfrom=sender.test',
        'From: a@sender.test',
        'authentication-results: (x) MX.RECEIVER.TEST; spf=pass',
        'Subject: Hi',
        '',
        'Authentication-Results: mx.receiver.test; not a header, the body',
        '',
      ].join('\r\n'),
    );
    const cleaned = withoutOwnAuthenticationResults(raw, 'mx.receiver.test').toString();
    assert.equal(
      cleaned,
      [
        'Authentication-Results: mx.upstream.test; spf=pass smtp.mailfrom=sender.test',
        'From: a@sender.test',
        'Subject: Hi',
        '',
        'Authentication-Results: mx.receiver.test; not a header, the body',
        '',
      ].join('\r\n'),
    );
  });

  test('a message without them is passed on as the very same buffer', () => {
    const raw = Buffer.from('From: a@sender.test\r\n\r\nbody\r\n');
    assert.equal(withoutOwnAuthenticationResults(raw, 'mx.receiver.test'), raw);
  });
});

describe('header fields', () => {
  test('are read with folding, bare-LF line ends, and no body', () => {
    const fields = readHeaderFields(Buffer.from('DKIM-Signature: v=1; d=a.test;\n s=sel; b=abc\nFrom: x@a.test\n'));
    assert.deepEqual(
      fields.map((f) => [f.name, f.value]),
      [
        ['dkim-signature', 'v=1; d=a.test; s=sel; b=abc'],
        ['from', 'x@a.test'],
      ],
    );
  });
});
