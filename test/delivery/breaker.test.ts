import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBreakers } from '../../src/delivery/breaker.ts';

function setup() {
  let t = 1_000_000;
  const breakers = createBreakers({ failureThreshold: 3, openMs: 1000, maxOpenMs: 4000, maxInFlight: 2, now: () => t });
  return { breakers, advance: (ms: number) => (t += ms), now: () => t };
}

test('opens after the threshold of failures in a row and turns attempts away until it is due', () => {
  const { breakers, now } = setup();
  for (let i = 0; i < 3; i++) {
    assert.equal(breakers.admit('a').ok, true);
    breakers.release('a', false);
  }
  const refused = breakers.admit('a');
  assert.deepEqual(refused, { ok: false, retryAt: now() + 1000, reason: 'open' });
  assert.equal(breakers.admit('b').ok, true, 'another endpoint is not affected');
});

test('lets one probe through when due; success closes it, failure reopens it for twice as long', () => {
  const { breakers, advance, now } = setup();
  for (let i = 0; i < 3; i++) (breakers.admit('a'), breakers.release('a', false));
  advance(1000);
  assert.equal(breakers.admit('a').ok, true, 'the probe');
  assert.equal(breakers.admit('a').ok, false, 'only one probe at a time');
  breakers.release('a', false);
  assert.deepEqual(breakers.admit('a'), { ok: false, retryAt: now() + 2000, reason: 'open' });
  advance(2000);
  assert.equal(breakers.admit('a').ok, true);
  breakers.release('a', true);
  assert.equal(breakers.health().find((h) => h.endpoint === 'a')?.state, 'closed');
  assert.equal(breakers.admit('a').ok, true);
});

test('caps the attempts in flight per endpoint', () => {
  const { breakers } = setup();
  assert.equal(breakers.admit('a').ok, true);
  assert.equal(breakers.admit('a').ok, true);
  assert.equal(breakers.admit('a').ok ? 'ok' : breakers.admit('a').ok === false && 'busy', 'busy');
  breakers.release('a', true);
  assert.equal(breakers.admit('a').ok, true);
});

test('a success resets the count of failures', () => {
  const { breakers } = setup();
  for (const healthy of [false, false, true, false, false]) (breakers.admit('a'), breakers.release('a', healthy));
  assert.equal(breakers.admit('a').ok, true);
});
