import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoutes } from '../../src/config/routes.ts';
import { joinPayload, splitPayloads } from '../../src/message/stored.ts';
import { buildTestPayloads, crlf } from './support.ts';

const routes = parseRoutes(
  `
domains:
  full.test: { url: "http://h/full", recipients: ["*"], raw: true, attachments: { inlineLimit: 10MiB } }
  small.test: { url: "http://h/small", recipients: ["*"], attachments: { inlineLimit: 3000 } }
  none.test: { url: "http://h/none", recipients: ["*"], attachments: { inlineLimit: 0 } }
`,
  { source: 'test', env: {} },
);

async function payloadsFor(rcptTo: string[]) {
  // 4000 bytes, then 2000 bytes: the small route inlines only the second one.
  const [a, b] = [Buffer.alloc(4000, 1).toString('base64'), Buffer.alloc(2000, 2).toString('base64')];
  const raw = crlf(
    `From: a@sender.test\nTo: x@full.test\nSubject: stored once\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${a}\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${b}\n--b--\n`,
  );
  return (await buildTestPayloads(routes, raw, rcptTo)).map((p) => p.payload);
}

test('gives back each delivery\'s payload exactly from the shared message and its own part', async () => {
  const payloads = await payloadsFor(['x@full.test', 'y@small.test', 'z@none.test']);
  const { shared, parts } = splitPayloads(payloads);
  for (const [index, payload] of payloads.entries()) {
    assert.deepEqual(joinPayload(shared, parts[index]!), payload);
    assert.equal(JSON.stringify(joinPayload(shared, parts[index]!)), JSON.stringify(payload), 'the same JSON, key order included');
  }
});

test('stores each attachment\'s content and the raw MIME once, whichever delivery needs them', async () => {
  const payloads = await payloadsFor(['y@small.test', 'z@none.test', 'x@full.test']);
  const { shared, parts } = splitPayloads(payloads);
  assert.deepEqual(shared.attachments.map((a) => 'content' in a), [true, true]);
  assert.ok(shared.raw !== null);
  assert.deepEqual(parts.map((p) => p.inlined), [[1], [], [0, 1]]);
  assert.deepEqual(parts.map((p) => p.raw), [false, false, true]);
  // The shared record is no bigger than the largest payload; each part is small.
  const largest = Math.max(...payloads.map((p) => JSON.stringify(p).length));
  assert.ok(JSON.stringify(shared).length <= largest, `shared ${JSON.stringify(shared).length} bytes, largest payload ${largest}`);
  for (const part of parts) assert.ok(JSON.stringify(part).length < 1500, `a part of ${JSON.stringify(part).length} bytes`);
});
