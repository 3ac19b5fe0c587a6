import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoutes } from '../../src/config/routes.ts';
import { buildPayloads } from '../../src/message/build.ts';
import { parseMessage } from '../../src/message/parse.ts';
import { payloadSchema } from '../../src/message/payload-schema.ts';
import { planDeliveries, resolveRecipient, type Target } from '../../src/routing/resolve.ts';
import type { ReceivedMessage } from '../../src/smtp/receiver.ts';
import { payloadProblems } from '../support/payload-validation.ts';
import { crlf, fixture } from './support.ts';

// Three domains that differ only in what their payloads carry.
const routes = parseRoutes(
  `
domains:
  full.test:
    url: http://127.0.0.1:9000/full
    recipients: ["*"]
    raw: true
    attachments: { inlineLimit: 10MiB }
  small.test:
    url: http://127.0.0.1:9000/small
    recipients: ["*"]
    attachments: { inlineLimit: 100 }
  default.test:
    url: http://127.0.0.1:9000/default
    recipients: ["*"]
  bücher.test:
    url: http://127.0.0.1:9000/buecher
    recipients: ["*"]
`,
  { source: 'test', env: {} },
);

const target = (address: string): Target => {
  const resolution = resolveRecipient(routes, address);
  assert.ok(resolution.ok, `${address} resolves`);
  return resolution.target;
};

async function build(raw: Buffer, rcptTo: string[], extra: Partial<ReceivedMessage> = {}) {
  const received: ReceivedMessage = {
    raw, receivedAt: new Date('2024-03-05T09:14:30.000Z'), mailFrom: 'sender@example.org', targets: rcptTo.map(target),
    remoteAddress: '192.0.2.1', remotePort: 40000, helo: 'mail.example.org', tls: null, smtpUtf8: false, eightBitMime: false, ...extra,
  };
  const parsed = await parseMessage(raw);
  return buildPayloads({ queueId: 'Q1', received, parsed, plans: planDeliveries(received.targets), deliveryId: (q, i) => `${q}-${i + 1}` }).map((p) => p.payload);
}

// attachment.eml carries a 70-byte PNG, then a 72-byte PDF.
test('inlines attachment content in MIME order until the route\'s limit, and says why the rest has none', async () => {
  const [small] = await build(fixture('attachment.eml'), ['a@small.test']);
  assert.deepEqual(small!.message.attachments.map((a) => ('content' in a ? 'content' : a.contentOmitted)), ['content', 'size-limit']);
  assert.equal(small!.message.attachments[1]!.filename, 'invoice-2024-0117.pdf', 'the metadata of an omitted attachment stays');
});

test('inlines a later attachment that still fits after one that did not', async () => {
  const big = Buffer.alloc(150, 1).toString('base64');
  const raw = crlf(`Subject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${big}\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC\n--b--\n`);
  const [payload] = await build(raw, ['a@small.test']);
  assert.deepEqual(payload!.message.attachments.map((a) => ('content' in a ? a.content : a.contentOmitted)), ['size-limit', 'AAEC']);
});

test('gives each route its own attachment content and raw MIME, from one parse', async () => {
  const raw = fixture('attachment.eml');
  const payloads = await build(raw, ['a@full.test', 'b@small.test', 'c@default.test']);
  const byDomain = Object.fromEntries(payloads.map((p) => [p.route.domain, p.message]));
  assert.equal(byDomain['full.test']!.raw, raw.toString('base64'));
  assert.equal(byDomain['small.test']!.raw, undefined);
  assert.equal('raw' in byDomain['default.test']!, false, 'raw is absent, not null, when the route does not ask');
  assert.deepEqual(byDomain['full.test']!.attachments.map((a) => 'content' in a), [true, true]);
  assert.deepEqual(byDomain['small.test']!.attachments.map((a) => 'content' in a), [true, false]);
  assert.deepEqual(byDomain['default.test']!.attachments.map((a) => 'content' in a), [true, true], 'the default limit (5 MiB) takes both');
});

test('attaches the raw MIME to a message the parser could not read whole, whatever the route says', async () => {
  const parts = '--b\nContent-Type: text/plain\n\nx\n'.repeat(1_200);
  const raw = crlf(`Subject: many parts\nContent-Type: multipart/mixed; boundary=b\n\n${parts}--b--\n`);
  const [payload] = await build(raw, ['a@default.test']);
  assert.equal(payload!.message.raw, raw.toString('base64'));
  assert.deepEqual(payload!.message.parseWarnings.map((w) => w.code), ['parser-limit']);
});

test('lists as bcc the envelope recipients of this delivery that To and Cc do not name', async () => {
  // Case and the IDN spelling do not matter: Support@Full.test is support@full.test.
  const raw = crlf('To: Support <Support@Full.test>\nCc: info@xn--bcher-kva.test\nSubject: s\n\nhi\n');
  const payloads = await build(raw, ['support@full.test', 'hidden@full.test', 'INFO@bücher.test', 'other@bücher.test']);
  const byDomain = Object.fromEntries(payloads.map((p) => [p.route.domain, p.message.bcc]));
  assert.deepEqual(byDomain['full.test'], [{ name: '', address: 'hidden@full.test' }]);
  assert.deepEqual(byDomain['xn--bcher-kva.test'], [{ name: '', address: 'other@bücher.test' }]);
});

test('records the TLS session and the SMTPUTF8 and 8BITMIME flags in the envelope', async () => {
  const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };
  const [payload] = await build(fixture('plain.eml'), ['a@default.test'], { tls, smtpUtf8: true, eightBitMime: true });
  assert.deepEqual(
    { tls: payload!.envelope.tls, smtpUtf8: payload!.envelope.smtpUtf8, eightBitMime: payload!.envelope.eightBitMime },
    { tls, smtpUtf8: true, eightBitMime: true },
  );
});

test('builds payloads that both the zod schema and the published JSON Schema accept', async () => {
  for (const name of ['attachment.eml', 'malformed-boundary.eml', 'smtputf8.eml', 'calendar-invite.eml']) {
    for (const payload of await build(fixture(name), ['a@full.test', 'b@small.test'])) {
      assert.deepEqual(payloadProblems(payload), [], name);
      payloadSchema.parse(payload);
    }
  }
});
