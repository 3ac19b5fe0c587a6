import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseMessage } from '../../src/message/parse.ts';
import { crlf, EMPTY, fixture, parseDoc } from './support.ts';

const parseFixture = (name: string) => parseDoc(fixture(name));
const parseText = (text: string) => parseDoc(crlf(text));
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

// The bytes attachment.eml was composed from.
const LOGO_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const INVOICE_PDF = Buffer.from('%PDF-1.4\n%mxpost test fixture\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');

test('reads the text body of a plain message and leaves html null', async () => {
  const doc = await parseFixture('plain.eml');
  assert.match(doc.text ?? '', /^Hi,\n\nSince Friday I get "invalid password"/);
  assert.equal(doc.html, null);
});

test('reports the raw size in bytes', async () => {
  const raw = fixture('attachment.eml');
  assert.equal((await parseDoc(raw)).size, raw.length);
});

test('strips angle brackets from Message-ID', async () => {
  const doc = await parseFixture('plain.eml');
  assert.equal(doc.messageId, '5e1f0c2a-8d1b-4c7e-9a1f-3b2d7c9e4f10@example.org');
});

test('keeps repeated Received headers in order', async () => {
  const doc = await parseFixture('plain.eml');
  const received = doc.headers.filter((field) => field.name === 'Received').map((field) => field.value);
  assert.equal(received.length, 3);
  assert.match(received[0] ?? '', /^from mail\.example\.org .*\sby mx\.inbound\.example/);
  assert.match(received[1] ?? '', /^from \[192\.168\.1\.20\]/);
  assert.match(received[2] ?? '', /^by 2002:a05:6402/);
});

test('lists every top-level header in order with its name as written', async () => {
  const doc = await parseFixture('plain.eml');
  assert.deepEqual(doc.headers.map((field) => field.name), [
    'Return-Path', 'Received', 'Received', 'Received', 'Message-ID', 'Date', 'MIME-Version', 'User-Agent',
    'Content-Language', 'From', 'To', 'Subject', 'Content-Type', 'Content-Transfer-Encoding',
  ]);
});

test('unfolds folded header values, keeping the whitespace that followed each line break', async () => {
  const doc = await parseFixture('folded-headers.eml');
  const field = (name: string) => doc.headers.find((header) => header.name === name)?.value;
  assert.equal(field('Subject'), 'This subject line is long enough that the sending client folded it over three lines');
  assert.equal(field('X-Tracking'), 'a=1;\tb=2;  c=3');
  assert.equal(doc.subject, 'This subject line is long enough that the sending client folded it over three lines');
});

test('decodes encoded-words in every header value, not only the well-known ones', async () => {
  const doc = await parseFixture('encoded-utf8.eml');
  assert.deepEqual(doc.headers.find((field) => field.name === 'X-Note'), { name: 'X-Note', value: 'früh eingereicht' });
});

test('decodes a UTF-8 encoded-word subject split over two folded encoded-words', async () => {
  const doc = await parseFixture('encoded-utf8.eml');
  assert.equal(doc.subject, 'Résumé für José — 日本語のテスト');
});

test('decodes an ISO-8859-1 encoded-word subject', async () => {
  const doc = await parseFixture('encoded-latin1.eml');
  assert.equal(doc.subject, 'Café crème à la française');
});

test('decodes a UTF-8 encoded-word From display name', async () => {
  const doc = await parseFixture('encoded-utf8.eml');
  assert.deepEqual(doc.from, [{ name: 'José Martínez', address: 'jose@example.es' }]);
});

test('decodes ISO-8859-1 encoded-word display names in Q and B encoding', async () => {
  const doc = await parseFixture('encoded-latin1.eml');
  assert.deepEqual(doc.from, [{ name: 'François Lévesque', address: 'francois@example.fr' }]);
  assert.deepEqual(doc.to, [{ name: 'Zoë Núñez', address: 'orders@inbound.example' }]);
});

test('decodes an ISO-8859-1 quoted-printable body into text', async () => {
  const doc = await parseFixture('encoded-latin1.eml');
  assert.equal(doc.text, 'Bonjour,\n\nVoilà ma commande : deux cafés crème.\n');
});

test('does not let a decoded display name add addresses the header never carried', async () => {
  const doc = await parseText('From: =?utf-8?Q?x=22_=3Cceo@bank.example=3E=2C_y?= <attacker@evil.example>\n\nhi\n');
  assert.deepEqual(doc.from, [{ name: 'x" <ceo@bank.example>, y', address: 'attacker@evil.example' }]);
});

test('decodes raw 8-bit header values as UTF-8, and as Latin-1 when they are not UTF-8', async () => {
  const raw = Buffer.concat([
    Buffer.from('Subject: Grüße\r\n', 'utf8'),
    Buffer.from('X-Legacy: Grüße\r\n\r\nbody\r\n', 'latin1'),
  ]);
  const doc = await parseDoc(raw);
  assert.deepEqual(doc.headers, [{ name: 'Subject', value: 'Grüße' }, { name: 'X-Legacy', value: 'Grüße' }]);
});

test('gives an empty name to an address without a display name', async () => {
  const doc = await parseFixture('plain.eml');
  assert.deepEqual(doc.to, [{ name: '', address: 'support@inbound.example' }]);
});

test('flattens groups into their member addresses and drops empty groups', async () => {
  const doc = await parseFixture('folded-headers.eml');
  assert.deepEqual(doc.to, [
    { name: '', address: 'dev1@example.com' },
    { name: 'Dev Two', address: 'dev2@example.com' },
    { name: '', address: 'lead@example.com' },
  ]);
  assert.deepEqual(doc.cc, []);
});

test('reads Sender, every Reply-To address and Cc', async () => {
  const doc = await parseFixture('alternative.eml');
  assert.deepEqual(doc.sender, { name: '', address: 'bounces+8812@mailer.example' });
  assert.deepEqual(doc.replyTo, [
    { name: 'Editors', address: 'editors@news.example' },
    { name: '', address: 'corrections@news.example' },
  ]);
  assert.deepEqual(doc.cc, [{ name: 'Archive', address: 'archive@news.example' }]);
});

test('reads only the first From header when a message repeats it', async () => {
  const doc = await parseText('From: first@example.com\nFrom: second@example.com\n\nhi\n');
  assert.deepEqual(doc.from, [{ name: '', address: 'first@example.com' }]);
});

test('reads To from every To header, in order', async () => {
  const doc = await parseText('To: a@example.com\nTo: b@example.com, c@example.com\n\nhi\n');
  assert.deepEqual(doc.to.map((mailbox) => mailbox.address), ['a@example.com', 'b@example.com', 'c@example.com']);
});

test('reads In-Reply-To without angle brackets', async () => {
  const doc = await parseFixture('reply.eml');
  assert.equal(doc.inReplyTo, '5e1f0c2a-8d1b-4c7e-9a1f-3b2d7c9e4f10@example.org');
});

test('lists folded References in order without angle brackets', async () => {
  const doc = await parseFixture('reply.eml');
  assert.deepEqual(doc.references, [
    'thread-start.42@example.org',
    '4b7e.earlier@example.net',
    '5e1f0c2a-8d1b-4c7e-9a1f-3b2d7c9e4f10@example.org',
  ]);
});

test('reads text and html from multipart/alternative', async () => {
  const doc = await parseFixture('alternative.eml');
  assert.equal(doc.text, 'This week: café openings and a résumé workshop.\nRead more at https://news.example/w10\n');
  assert.equal(doc.html, '<html><body><h1>This week</h1><p>café openings and a résumé workshop.</p></body></html>\n');
  assert.deepEqual(doc.attachments, []);
});

test('renders a text part beside an HTML part outside multipart/alternative into html, escaped, as mailparser does', async () => {
  // mail-reader.ts skips mailparser's text-to-HTML conversion once the parts
  // are read (textAsHtml); the html of a mixed message still needs it.
  const doc = await parseText(
    'Subject: mixed\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nFirst <part> at https://example.com/x\n\nsecond para\n--b\nContent-Type: text/html\n\n<p>Second part</p>\n--b--\n',
  );
  assert.equal(doc.html, '<p>First &lt;part&gt; at https://example.com/x</p><p>second para</p><br/>\n<p>Second part</p>');
  assert.equal(doc.text, 'First <part> at https://example.com/x\n\nsecond para\nSecond part');
});

test('describes each attachment with filename, content type, decoded size, Content-ID and disposition', async () => {
  const doc = await parseFixture('attachment.eml');
  assert.deepEqual(
    doc.attachments.map(({ sha256: _, ...rest }) => rest),
    [
      { filename: 'logo.png', contentType: 'image/png', size: LOGO_PNG.length, contentId: 'logo.7f3a@acme.example', disposition: 'inline' },
      { filename: 'invoice-2024-0117.pdf', contentType: 'application/pdf', size: INVOICE_PDF.length, contentId: null, disposition: 'attachment' },
    ],
  );
});

test('reports sha256 of the decoded attachment bytes', async () => {
  const doc = await parseFixture('attachment.eml');
  assert.deepEqual(doc.attachments.map((attachment) => attachment.sha256), [sha256(LOGO_PNG), sha256(INVOICE_PDF)]);
});

test('keeps the decoded bytes of each attachment beside its metadata, for the routes to inline', async () => {
  const parsed = await parseMessage(fixture('attachment.eml'));
  assert.deepEqual(parsed.attachments.map((attachment) => attachment.content), [LOGO_PNG, INVOICE_PDF]);
  for (const { metadata } of parsed.attachments) {
    assert.deepEqual(Object.keys(metadata).sort(), ['contentId', 'contentType', 'disposition', 'filename', 'sha256', 'size']);
  }
});

test('keeps cid: links in html instead of inlining images as data: URLs', async () => {
  const doc = await parseFixture('attachment.eml');
  assert.match(doc.html ?? '', /src="cid:logo\.7f3a@acme\.example"/);
  assert.doesNotMatch(doc.html ?? '', /data:/);
});

test('returns null and empty values for headers the message does not have', async () => {
  const doc = await parseText('X-Only: this\n\nhi\n');
  assert.deepEqual(doc, {
    ...EMPTY,
    headers: [{ name: 'X-Only', value: 'this' }],
    headersByName: { 'x-only': ['this'] },
    text: 'hi\n',
    replyText: 'hi',
    size: doc.size,
  });
});

test('looks headers up by lower-case name, each name with its values in message order', async () => {
  const doc = await parseFixture('plain.eml');
  assert.equal(doc.headersByName['received']?.length, 3);
  assert.deepEqual(doc.headersByName['received'], doc.headers.filter((h) => h.name === 'Received').map((h) => h.value));
  assert.deepEqual(doc.headersByName['message-id'], ['<5e1f0c2a-8d1b-4c7e-9a1f-3b2d7c9e4f10@example.org>']);
  assert.deepEqual(Object.keys(doc.headersByName), [...new Set(doc.headers.map((h) => h.name.toLowerCase()))]);
});

test('keeps a header named __proto__ as an ordinary entry of the lookup', async () => {
  const doc = await parseText('__proto__: polluted\nSubject: s\n\nhi\n');
  assert.deepEqual(Object.getOwnPropertyDescriptor(doc.headersByName, '__proto__')?.value, ['polluted']);
  assert.equal(Object.getPrototypeOf(doc.headersByName), Object.prototype);
});
