import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { extractReply } from '../../src/message/reply.ts';

// The reply corpus: test/fixtures/replies/NAME.txt is a text body as a mail
// client writes it, NAME.expected.txt what the sender newly wrote.
const dir = new URL('../fixtures/replies/', import.meta.url);
const samples = readdirSync(dir)
  .filter((name) => name.endsWith('.txt') && !name.endsWith('.expected.txt'))
  .map((name) => name.slice(0, -'.txt'.length));
const read = (name: string) => readFileSync(new URL(name, dir), 'utf8');

test('the reply corpus covers every client and language the payload promises', () => {
  const required = [
    'gmail-en', 'gmail-en-wrapped', 'gmail-de-wrapped', 'gmail-fr', 'gmail-es', 'gmail-pt', 'gmail-nl',
    'outlook-desktop-en', 'outlook-original-message', 'outlook-web-en', 'outlook-de', 'outlook-fr', 'outlook-es', 'outlook-pt', 'outlook-nl',
    'apple-mail-en', 'apple-mail-de', 'thunderbird-en', 'thunderbird-de', 'thunderbird-fr', 'thunderbird-nl', 'plain-quote-no-header',
  ];
  assert.deepEqual(required.filter((name) => !samples.includes(name)), []);
});

for (const name of samples) {
  test(`keeps only what the sender wrote in the ${name} sample`, () => {
    assert.equal(extractReply(read(`${name}.txt`)), read(`${name}.expected.txt`));
  });
}

test('returns a text without history or signature whole, trimmed', () => {
  assert.equal(extractReply('\n\nJust a question: is the shop open on Sunday?\n\n'), 'Just a question: is the shop open on Sunday?');
});

test('keeps a sign-off that is all the sender wrote', () => {
  assert.equal(extractReply('Thanks,\nOliver\n\nOn Mon, 4 Mar 2024, Support wrote:\n> Done.\n'), 'Thanks,\nOliver');
});

test('does not take "On …" prose for an attribution unless it ends in the verb', () => {
  const text = 'On Monday we ship version 2.\nOn Tuesday we start on version 3.\n';
  assert.equal(extractReply(text), text.trim());
});

test('does not take a "From:" line in prose for a header block', () => {
  const text = 'From: the warehouse, we need two more pallets.\nPlease order them today.\n';
  assert.equal(extractReply(text), text.trim());
});

test('takes "Name wrote:" for an attribution only when quoted lines follow it', () => {
  assert.equal(extractReply('Agreed.\n\nJane Doe wrote:\n> Ship it?\n'), 'Agreed.');
  assert.equal(extractReply('I think Jane wrote:\nthe best summary.\n'), 'I think Jane wrote:\nthe best summary.');
});

test('removes the text after a "-- " delimiter however long the signature is', () => {
  const signature = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
  assert.equal(extractReply(`Yes.\n-- \n${signature}\n`), 'Yes.');
});

test('keeps "Thank you." closing a message, which is a sentence, not a sign-off', () => {
  assert.equal(extractReply('Please cancel order 7.\n\nThank you.\n'), 'Please cancel order 7.\n\nThank you.');
});

test('treats CRLF line breaks as LF', () => {
  assert.equal(extractReply('Fine by me.\r\n\r\nOn Mon, Mar 4, 2024 at 9:12 AM Jo <jo@example.com> wrote:\r\n> ok?\r\n'), 'Fine by me.');
});

test('returns a text longer than it scans whole when no history starts within the scanned part', () => {
  const long = `${'word '.repeat(80_000)}\n`.repeat(2);
  assert.equal(extractReply(long), long.trim());
});

// Each of these made a quadratic or exponential pattern somewhere (the first
// one stalls email-reply-parser 2.x for minutes); all must run in linear time.
const HOSTILE: Record<string, string> = {
  'Dutch attribution openings without an end': 'Op a schreef b\n'.repeat(20_000),
  'attribution openings on long lines': `On ${'a '.repeat(400)}\n`.repeat(2_000),
  '"From:" lines without a header block': 'From: a\n'.repeat(50_000),
  'one long line': 'On '.repeat(200_000),
  'alternating quotes and answers': '> a\nb\n'.repeat(50_000),
  '"wrote:" lines followed by blank lines': 'Jane wrote:\n\n'.repeat(20_000),
  'sign-offs': 'Thanks,\n'.repeat(50_000),
};
for (const [name, text] of Object.entries(HOSTILE)) {
  test(`runs in linear time on ${name}`, { timeout: 5_000 }, () => {
    const started = performance.now();
    extractReply(text);
    // Linear work on these few hundred KB is a few tens of ms; the patterns
    // this guards against take seconds to minutes.
    assert.ok(performance.now() - started < 1_000, `took ${Math.round(performance.now() - started)} ms`);
  });
}
