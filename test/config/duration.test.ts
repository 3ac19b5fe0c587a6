import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/config/duration.ts';

test('reads durations as written in configuration', () => {
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1.5s'), 1500);
});

test('refuses what is not a duration', () => {
  for (const text of ['', '24', 'h', '24 hours', '-1s', '1w']) assert.equal(parseDuration(text), null, text);
});

test('formats milliseconds for people', () => {
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(500), '500ms');
});
