import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseMessage } from '../../src/message/parse.ts';
import type { MessageDocument } from '../../src/message/types.ts';

// A hang fails the test instead of stalling the run.
const bounded = { timeout: 10_000 };
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/eml/${name}`, import.meta.url));
const crlf = (text: string): Buffer => Buffer.from(text.replaceAll('\n', '\r\n'));

const EMPTY: Omit<MessageDocument, 'size'> = {
  messageId: null, inReplyTo: null, references: [], date: null, subject: '', from: [], sender: null,
  replyTo: [], to: [], cc: [], headers: [], text: null, html: null, attachments: [],
};

/** Deterministic bytes that look like nothing in particular. */
function garbage(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = 0x2545f491;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

test('returns an empty document rather than throwing on a 0-byte message', bounded, async () => {
  assert.deepEqual(await parseMessage(Buffer.alloc(0)), { ...EMPTY, size: 0 });
});

test('returns an empty document, save the body as text, rather than throwing on binary garbage', bounded, async () => {
  // The garbage holds blank lines, so mailparser reads what follows the first as the body.
  const raw = garbage(64 * 1024);
  const { text, ...doc } = await parseMessage(raw);
  const { text: _, ...empty } = EMPTY;
  assert.deepEqual(doc, { ...empty, size: raw.length });
  assert.equal(typeof text, 'string');
});

test('skips lines that have no valid header name in a message without a header block', bounded, async () => {
  const raw = fixture('malformed-no-headers.eml');
  assert.deepEqual(await parseMessage(raw), { ...EMPTY, size: raw.length });
});

test('keeps the headers and intact parts of a message with broken boundaries', bounded, async () => {
  const doc = await parseMessage(fixture('malformed-boundary.eml'));
  assert.equal(doc.subject, 'half a message');
  assert.deepEqual(doc.from, [{ name: '', address: 'broken-mailer@broken.example' }]);
  assert.equal(doc.date, null);
  assert.equal(doc.text, 'The first part is intact.');
  assert.deepEqual(doc.attachments.map((attachment) => attachment.filename), ['data.bin']);
});

test('returns the headers of a multipart message whose boundary parameter is missing', bounded, async () => {
  const doc = await parseMessage(
    crlf('Subject: no boundary\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nhello\n--x--\n'),
  );
  assert.equal(doc.subject, 'no boundary');
  assert.deepEqual(doc.attachments, []);
});

test('keeps a 100 KB header line whole', bounded, async () => {
  const long = 'x'.repeat(100 * 1024);
  const doc = await parseMessage(crlf(`Subject: ${long}\nX-Long: ${long}\nFrom: a@example.com\n\nbody\n`));
  assert.equal(doc.subject, long);
  assert.equal(doc.headers.find((field) => field.name === 'X-Long')?.value, long);
  assert.deepEqual(doc.from, [{ name: '', address: 'a@example.com' }]);
});

test('still returns the first headers when the header block is larger than mailparser accepts', bounded, async () => {
  // mailparser refuses a header block over 1 MiB outright; the retry reads what fits.
  const filler = `X-Filler: ${'y'.repeat(60)}\n`.repeat(20_000);
  const doc = await parseMessage(crlf(`Subject: kept\nFrom: a@example.com\n${filler}\nbody\n`));
  assert.equal(doc.subject, 'kept');
  assert.deepEqual(doc.from, [{ name: '', address: 'a@example.com' }]);
  assert.equal(doc.text, null);
});

test('still returns the headers when a message has more MIME parts than mailparser accepts', bounded, async () => {
  const parts = '--b\nContent-Type: text/plain\n\nx\n'.repeat(1_200);
  const doc = await parseMessage(crlf(`Subject: many parts\nContent-Type: multipart/mixed; boundary=b\n\n${parts}--b--\n`));
  assert.equal(doc.subject, 'many parts');
});

test('returns an empty document when a single header line is larger than mailparser accepts', bounded, async () => {
  const raw = crlf(`Subject: ${'z'.repeat(2 * 1024 * 1024)}\n\nbody\n`);
  assert.deepEqual(await parseMessage(raw), { ...EMPTY, size: raw.length });
});

test('decodes an encoded-word in a charset it does not know as UTF-8', bounded, async () => {
  const doc = await parseMessage(crlf('Subject: =?x-unknown?Q?caf=C3=A9?=\n\nhi\n'));
  assert.equal(doc.subject, 'café');
});
