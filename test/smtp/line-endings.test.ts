import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineEndingNormalizer, normalizeLineEndings } from '../../src/smtp/line-endings.ts';

const norm = (text: string) => normalizeLineEndings(Buffer.from(text, 'latin1')).toString('latin1');

test('keeps CRLF line endings as they are', () => {
  assert.equal(norm('a\r\nb\r\n\r\nc\r\n'), 'a\r\nb\r\n\r\nc\r\n');
});

test('turns every bare LF and every bare CR into CRLF', () => {
  assert.equal(norm('a\nb\rc\r\n'), 'a\r\nb\r\nc\r\n');
  assert.equal(norm('\n\n'), '\r\n\r\n');
  assert.equal(norm('\r\r\n'), '\r\n\r\n', 'a CR before a CRLF is bare');
  assert.equal(norm('x\n\r'), 'x\r\n\r\n', 'LF then CR is two line breaks, not one');
  assert.equal(norm('end\r'), 'end\r\n', 'a CR at the very end is bare');
});

test('turns the smuggling sequences into ordinary lines holding a dot', () => {
  assert.equal(norm('a\n.\nMAIL FROM:<x@y>\n'), 'a\r\n.\r\nMAIL FROM:<x@y>\r\n');
  assert.equal(norm('a\r.\rb'), 'a\r\n.\r\nb');
  assert.equal(norm('a\r\n.\rb'), 'a\r\n.\r\nb');
  assert.equal(norm('a\r.\r\nb'), 'a\r\n.\r\nb');
});

test('decides a CR at the end of a chunk by the start of the next one, whatever the split', () => {
  const input = Buffer.from('one\r\ntwo\rthree\nfour\r\n\r\rfive\r', 'latin1');
  const expected = normalizeLineEndings(input).toString('latin1');
  assert.equal(expected, 'one\r\ntwo\r\nthree\r\nfour\r\n\r\n\r\nfive\r\n');
  for (let size = 1; size <= input.length; size++) {
    const normalizer = new LineEndingNormalizer();
    const out: Buffer[] = [];
    for (let i = 0; i < input.length; i += size) out.push(normalizer.push(input.subarray(i, i + size)));
    out.push(normalizer.end());
    assert.equal(Buffer.concat(out).toString('latin1'), expected, `chunks of ${size} bytes`);
    assert.equal(normalizer.bare, 5, `chunks of ${size} bytes`);
  }
});

test('returns the same buffer when a chunk needs no change', () => {
  const chunk = Buffer.from('plain line\r\nanother\r\n');
  assert.equal(new LineEndingNormalizer().push(chunk), chunk);
});
