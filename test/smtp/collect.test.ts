import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { collectMessage } from '../../src/smtp/collect.ts';

test('keeps the whole message when it is within the limit', async () => {
  const result = await collectMessage(Readable.from([Buffer.from('abc'), Buffer.from('def')]), 6);
  assert.deepEqual(result, { raw: Buffer.from('abcdef'), size: 6, truncated: false });
});

test('keeps no more than the limit of an oversized message but reads it to the end', async () => {
  const chunks = Array.from({ length: 100 }, () => Buffer.alloc(1000, 'x'));
  const result = await collectMessage(Readable.from(chunks), 2500);
  assert.equal(result.raw.length, 2500);
  assert.equal(result.size, 100_000);
  assert.equal(result.truncated, true);
});
