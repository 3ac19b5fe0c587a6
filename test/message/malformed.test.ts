import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HARD_LIMITS, isMessageRefusedError, PARSER_LIMITS } from '../../src/message/limits.ts';
import { crlf, EMPTY, fixture, parseDoc } from './support.ts';

// A hang fails the test instead of stalling the run.
const bounded = { timeout: 10_000 };
const codes = (doc: { parseWarnings: { code: string }[] }) => doc.parseWarnings.map((warning) => warning.code);

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

test('returns an empty document without warnings for a 0-byte message', bounded, async () => {
  assert.deepEqual(await parseDoc(Buffer.alloc(0)), { ...EMPTY, size: 0 });
});

test('returns an empty document, save the body as text, rather than throwing on binary garbage', bounded, async () => {
  // The garbage holds blank lines, so mailparser reads what follows the first as the body.
  const raw = garbage(64 * 1024);
  const { text, replyText, parseWarnings, ...doc } = await parseDoc(raw);
  const { text: _, replyText: __, parseWarnings: ___, ...empty } = EMPTY;
  assert.deepEqual(doc, { ...empty, size: raw.length });
  assert.equal(typeof text, 'string');
  assert.equal(typeof replyText, 'string');
  assert.ok(parseWarnings.some((warning) => warning.code === 'invalid-header-line'));
});

test('skips lines that have no valid header name, and says so, in a message without a header block', bounded, async () => {
  const raw = fixture('malformed-no-headers.eml');
  const { parseWarnings, ...doc } = await parseDoc(raw);
  const { parseWarnings: _, ...empty } = EMPTY;
  assert.deepEqual(doc, { ...empty, size: raw.length });
  assert.deepEqual([...new Set(parseWarnings.map((warning) => warning.code))], ['invalid-header-line']);
});

test('keeps the headers and intact parts of a message with broken boundaries, and lists what was broken', bounded, async () => {
  const doc = await parseDoc(fixture('malformed-boundary.eml'));
  assert.equal(doc.subject, 'half a message');
  assert.deepEqual(doc.from, [{ name: '', address: 'broken-mailer@broken.example' }]);
  assert.equal(doc.date, null);
  assert.equal(doc.text, 'The first part is intact.');
  assert.deepEqual(doc.attachments.map((attachment) => attachment.filename), ['data.bin']);
  assert.deepEqual(codes(doc).sort(), ['invalid-base64', 'invalid-date', 'unclosed-multipart']);
  assert.match(doc.parseWarnings.find((w) => w.code === 'invalid-base64')!.message, /^part 2:/);
  assert.equal(doc.incomplete, false, 'broken MIME that mailparser mends is not a parser limit');
});

test('warns of base64 that goes on after its padding, and not of base64 padded at its end', bounded, async () => {
  const part = (body: string) => crlf(`Subject: b64\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${body}\n`);
  assert.deepEqual(codes(await parseDoc(part('AAE=\nAAEC'))), ['invalid-base64']);
  assert.deepEqual(codes(await parseDoc(part('AAECAw==\n'))), []);
});

test('warns of a multipart without a boundary parameter and reads it as text', bounded, async () => {
  const doc = await parseDoc(
    crlf('Subject: no boundary\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nhello\n--x--\n'),
  );
  assert.equal(doc.subject, 'no boundary');
  assert.deepEqual(doc.attachments, []);
  assert.deepEqual(codes(doc), ['missing-boundary']);
});

test('warns of a charset it does not know, in a body and in an encoded-word, and decodes both as UTF-8', bounded, async () => {
  const doc = await parseDoc(crlf('Subject: =?x-unknown?Q?caf=C3=A9?=\nContent-Type: text/plain; charset=x-mystery\n\ncaf\u00e9\n'));
  assert.equal(doc.subject, 'café');
  assert.equal(doc.text, 'café\n');
  assert.deepEqual(doc.parseWarnings.map((w) => w.message), [
    'message: unknown charset "x-mystery"; decoded as UTF-8',
    'message: Subject uses unknown charset "x-unknown"; decoded as UTF-8',
  ]);
});

test('reports no warnings for a well-formed multipart message', bounded, async () => {
  assert.deepEqual((await parseDoc(fixture('attachment.eml'))).parseWarnings, []);
  assert.deepEqual((await parseDoc(fixture('alternative.eml'))).parseWarnings, []);
});

test('keeps a 100 KB header line whole', bounded, async () => {
  const long = 'x'.repeat(100 * 1024);
  const doc = await parseDoc(crlf(`Subject: ${long}\nX-Long: ${long}\nFrom: a@example.com\n\nbody\n`));
  assert.equal(doc.subject, long);
  assert.equal(doc.headers.find((field) => field.name === 'X-Long')?.value, long);
  assert.deepEqual(doc.from, [{ name: '', address: 'a@example.com' }]);
});

test('still returns the first headers, marked incomplete, when the header block is larger than mailparser accepts', bounded, async () => {
  // mailparser refuses a header block over 1 MiB outright; the retry reads what fits.
  const filler = `X-Filler: ${'y'.repeat(60)}\n`.repeat(20_000);
  const doc = await parseDoc(crlf(`Subject: kept\nFrom: a@example.com\n${filler}\nbody\n`));
  assert.equal(doc.subject, 'kept');
  assert.deepEqual(doc.from, [{ name: '', address: 'a@example.com' }]);
  assert.equal(doc.text, null);
  assert.deepEqual(codes(doc), ['parser-limit']);
  assert.equal(doc.incomplete, true);
});

test('still returns the headers, marked incomplete, when a message has more MIME parts than mailparser accepts', bounded, async () => {
  const parts = '--b\nContent-Type: text/plain\n\nx\n'.repeat(1_200);
  const doc = await parseDoc(crlf(`Subject: many parts\nContent-Type: multipart/mixed; boundary=b\n\n${parts}--b--\n`));
  assert.equal(doc.subject, 'many parts');
  assert.deepEqual(codes(doc), ['parser-limit']);
  assert.match(doc.parseWarnings[0]!.message, /child nodes/);
  assert.equal(doc.incomplete, true);
});

test('refuses a message with more MIME parts than the hard limit', bounded, async () => {
  const parts = '--b\n\nx\n'.repeat(HARD_LIMITS.parts + 10);
  const refusal = await parseDoc(crlf(`Subject: parts bomb\nContent-Type: multipart/mixed; boundary=b\n\n${parts}--b--\n`)).catch((err: unknown) => err);
  assert.ok(isMessageRefusedError(refusal), `refused, got ${String(refusal)}`);
  assert.match(refusal.reason, /child nodes/);
});

test('refuses a message with a header block larger than the hard limit', bounded, async () => {
  const filler = `X-Filler: ${'y'.repeat(100)}\n`.repeat(Math.ceil(HARD_LIMITS.headBytes / 100));
  const refusal = await parseDoc(crlf(`Subject: header bomb\n${filler}\nbody\n`)).catch((err: unknown) => err);
  assert.ok(isMessageRefusedError(refusal), `refused, got ${String(refusal)}`);
  assert.match(refusal.reason, /header size/);
});

test('returns an empty document, marked incomplete, when a single header line is larger than mailparser accepts', bounded, async () => {
  const raw = crlf(`Subject: ${'z'.repeat(2 * 1024 * 1024)}\n\nbody\n`);
  const { parseWarnings, ...doc } = await parseDoc(raw);
  const { parseWarnings: _, ...empty } = EMPTY;
  assert.deepEqual(doc, { ...empty, size: raw.length, incomplete: true });
  assert.deepEqual(parseWarnings.map((warning) => warning.code), ['parser-limit']);
});

test('delivers HTML too long to render as text with the HTML, no text and a warning', bounded, async () => {
  const html = `<p>${'word '.repeat(PARSER_LIMITS.htmlToTextChars / 5)}</p>`;
  const doc = await parseDoc(crlf(`Subject: huge html\nContent-Type: text/html; charset=utf-8\n\n${html}\n`));
  assert.equal(doc.html?.length, html.length + 1);
  assert.equal(doc.text, null);
  assert.equal(doc.replyText, null);
  assert.deepEqual(codes(doc), ['html-not-converted']);
  assert.equal(doc.incomplete, true);
});

// Regression: linkify-it, which mailparser runs over text parts to build
// textAsHtml, backtracked for seconds on chained "xn--" host labels. mailparser
// now caps that work at about half a second per message, which is still half a
// second of a receiver doing nothing else; mxpost does not look for links at
// all (skipTextLinks). With link detection this text blocks the event loop for
// 0.25-0.6 s on the 2-core test machine, without it 20-50 ms.
test('parses text built to make link detection backtrack without blocking the event loop', bounded, async () => {
  const text = `${'xn--a.'.repeat(6)}com `.repeat(60_000);
  let stall = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    stall = Math.max(stall, performance.now() - last);
    last = performance.now();
  }, 1);
  try {
    const doc = await parseDoc(crlf(`Subject: links\nContent-Type: text/plain\n\n${text}\n`));
    assert.equal(doc.text, `${text}\n`);
  } finally {
    clearInterval(timer);
  }
  // A block that ends the parse is seen by no timer callback: count it too.
  stall = Math.max(stall, performance.now() - last);
  assert.ok(stall < 200, `the event loop was blocked for ${Math.round(stall)} ms at once`);
});
