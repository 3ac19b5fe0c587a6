import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { collectMessage } from '../../src/smtp/collect.ts';

const limits = { maxBytes: 1_000_000, maxHeaderBytes: 100_000 };
const from = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p, 'latin1')));

test('keeps the whole message when it is within the limits', async () => {
  const result = await collectMessage(from('Subject: a\r\n', '\r\nbody\r\n'), limits);
  assert.deepEqual(result, { raw: Buffer.from('Subject: a\r\n\r\nbody\r\n'), size: 20, bareLineEndings: 0, verdict: 'ok' });
});

test('stores the message with bare line endings normalised, and counts them', async () => {
  const result = await collectMessage(from('Subject: a\n\nbody\rmore\n'), limits);
  assert.equal(result.raw.toString(), 'Subject: a\r\n\r\nbody\r\nmore\r\n');
  assert.equal(result.bareLineEndings, 4);
});

test('keeps no more than the limit of an oversized message but reads it to the end', async () => {
  const chunks = Array.from({ length: 100 }, () => Buffer.alloc(1000, 'x'));
  let seen = 0;
  const result = await collectMessage(Readable.from([Buffer.from('\r\n'), ...chunks]), { maxBytes: 2500, maxHeaderBytes: 100 }, (n) => (seen += n));
  assert.equal(result.verdict, 'too-big');
  assert.equal(result.raw.length, 0);
  assert.equal(result.size, 100_002);
  assert.equal(seen, 100_002, 'every byte is reported as it arrives');
});

test('refuses a header block over its limit even when no empty line ever ends it', async () => {
  const header = Array.from({ length: 50 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(100)}\r\n`);
  const result = await collectMessage(from(...header), { maxBytes: 1_000_000, maxHeaderBytes: 4096 });
  assert.equal(result.verdict, 'header-too-big');
});

test('finds the end of the header across chunk boundaries and does not count the body', async () => {
  const header = 'Subject: x\r\nX-A: 1234567\r\n';
  const body = 'z'.repeat(10_000);
  for (let split = 1; split < 6; split++) {
    const text = `${header}\r\n${body}`;
    const cut = header.length - 2 + split;
    const result = await collectMessage(from(text.slice(0, cut), text.slice(cut)), { maxBytes: 1_000_000, maxHeaderBytes: header.length + 2 });
    assert.equal(result.verdict, 'ok', `split at ${cut}`);
  }
  const over = await collectMessage(from(`${header}\r\n${body}`), { maxBytes: 1_000_000, maxHeaderBytes: header.length + 1 });
  assert.equal(over.verdict, 'header-too-big');
});

test('a message that starts with its empty line has an empty header', async () => {
  const result = await collectMessage(from('\r\n', 'x'.repeat(5000)), { maxBytes: 1_000_000, maxHeaderBytes: 1024 });
  assert.equal(result.verdict, 'ok');
});
