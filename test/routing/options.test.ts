import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoutes, RoutesError } from '../../src/config/routes.ts';
import { newSecret } from '../../src/delivery/sign.ts';

const SECRET = newSecret();
const routeWith = (lines: string[]) =>
  ['domains:', '  d.test:', '    url: http://127.0.0.1:9000/in', '    secret: env:SECRET', '    recipients: ["*"]', ...lines.map((l) => `    ${l}`), ''].join('\n');
const parse = (lines: string[]) => parseRoutes(routeWith(lines), { source: 'routes.yaml', env: { SECRET } });

test('callback, replyTokens and sync take their documented defaults', () => {
  const route = parse(['callback: { url: "http://127.0.0.1:9001/rcpt" }', 'replyTokens: {}', 'sync: {}']).domains.get('d.test')!;
  assert.deepEqual(route.callback, { url: 'http://127.0.0.1:9001/rcpt', timeoutMs: 2000, cacheMs: 300_000, onError: 'tempfail' });
  assert.deepEqual(route.replyTokens, { localPart: 'reply', require: false });
  assert.deepEqual(route.sync, { timeoutMs: 10_000 });
  const plain = parse([]).domains.get('d.test')!;
  assert.deepEqual([plain.callback, plain.replyTokens, plain.sync], [null, null, null]);
});

test('callback options are read as written, and cache: 0s is allowed (ask every time)', () => {
  const route = parse(['callback: { url: "http://127.0.0.1:9001/rcpt", cache: 0s, onError: accept, timeout: 500ms }']).domains.get('d.test')!;
  assert.deepEqual(route.callback, { url: 'http://127.0.0.1:9001/rcpt', timeoutMs: 500, cacheMs: 0, onError: 'accept' });
});

test('bad callback, replyTokens and sync settings are each reported at their line', () => {
  const lines = [
    'callback: { url: "ftp://x", timeout: 1m, onError: bounce, retries: 3 }',
    'replyTokens: { localPart: "re ply" }',
    'sync: { timeout: 2m }',
  ];
  assert.throws(
    () => parse(lines),
    (err: unknown) => {
      assert.ok(err instanceof RoutesError);
      const text = err.message;
      for (const pattern of [/callback.*allowed keys are url, timeout, cache, onError/, /callback\.url: must be an http\(s\) URL/, /callback\.timeout: must be at most 30s/, /callback\.onError: must be tempfail or accept/, /replyTokens\.localPart: must be letters/, /sync\.timeout: must be at most 60s/]) {
        assert.match(text, pattern);
      }
      return true;
    },
  );
});
