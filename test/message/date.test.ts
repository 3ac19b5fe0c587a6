import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDate } from '../../src/message/date.ts';
import { parseDoc } from './support.ts';

const dateOf = async (header: string) => (await parseDoc(Buffer.from(`${header}Subject: s\r\n\r\nhi\r\n`))).date;

test('puts the Date header into the document as ISO 8601 UTC', async () => {
  assert.equal(await dateOf('Date: Mon, 12 Feb 2024 15:03:05 +0100\r\n'), '2024-02-12T14:03:05.000Z');
});

test('gives a null date for an unparseable Date header rather than the current time', async () => {
  // mailparser substitutes new Date() for a Date header it cannot read.
  assert.equal(await dateOf('Date: Sunday at noon probably\r\n'), null);
});

test('gives a null date when the Date header is absent', async () => {
  assert.equal(await dateOf(''), null);
});

test('applies a numeric zone offset', () => {
  assert.equal(parseDate('Mon, 12 Feb 2024 08:39:57 -0800'), '2024-02-12T16:39:57.000Z');
});

test('ignores comments such as a trailing zone name', () => {
  assert.equal(parseDate('Wed, 6 Mar 2024 03:00:00 -0500 (EST)'), '2024-03-06T08:00:00.000Z');
});

test('reads the obsolete US zone names with their offsets', () => {
  assert.equal(parseDate('Wed, 6 Mar 2024 03:00:00 EST'), '2024-03-06T08:00:00.000Z');
  assert.equal(parseDate('Wed, 6 Mar 2024 03:00:00 PDT'), '2024-03-06T10:00:00.000Z');
});

test('reads GMT, UT and unknown alphabetic zones as UTC', () => {
  assert.equal(parseDate('Tue, 1 Jul 2003 10:52:37 GMT'), '2003-07-01T10:52:37.000Z');
  assert.equal(parseDate('Tue, 1 Jul 2003 10:52:37 UT'), '2003-07-01T10:52:37.000Z');
  assert.equal(parseDate('Tue, 1 Jul 2003 10:52:37 CEST'), '2003-07-01T10:52:37.000Z');
});

test('reads a date without a zone as UTC, whatever the host time zone', () => {
  assert.equal(parseDate('12 Feb 2024 15:03:05'), '2024-02-12T15:03:05.000Z');
});

test('reads two-digit years as 1950 to 2049', () => {
  assert.equal(parseDate('6 Mar 24 03:00 +0000'), '2024-03-06T03:00:00.000Z');
  assert.equal(parseDate('6 Mar 97 03:00 +0000'), '1997-03-06T03:00:00.000Z');
});

test('accepts a date without seconds or day of week', () => {
  assert.equal(parseDate('9 Mar 2024 12:59 +0100'), '2024-03-09T11:59:00.000Z');
});

test('accepts an ISO 8601 date only when it carries an offset', () => {
  assert.equal(parseDate('2024-02-12T14:03:05+02:00'), '2024-02-12T12:03:05.000Z');
  assert.equal(parseDate('2024-02-12T14:03:05Z'), '2024-02-12T14:03:05.000Z');
  assert.equal(parseDate('2024-02-12T14:03:05'), null);
});

test('returns null for a calendar date that does not exist', () => {
  assert.equal(parseDate('Sat, 31 Feb 2024 10:00:00 +0000'), null);
  assert.equal(parseDate('2024-02-31T10:00:00Z'), null);
});

test('returns null for out-of-range times and offsets', () => {
  assert.equal(parseDate('12 Feb 2024 24:00:00 +0000'), null);
  assert.equal(parseDate('12 Feb 2024 10:00:00 +0099'), null);
});

test('returns null for strings the host Date parser would accept but that are not mail dates', () => {
  assert.equal(parseDate('1'), null);
  assert.equal(parseDate('Feb 12 2024'), null);
});

test('returns null for a Date header longer than any real date', () => {
  assert.equal(parseDate(`12 Feb 2024 10:00:00 +0000${' '.repeat(300)}x`), null);
});
