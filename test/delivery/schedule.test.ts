import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, planRetry } from '../../src/delivery/schedule.ts';

const schedule = { baseDelayMs: 10_000, maxDelayMs: 3_600_000 };
const middle = () => 0.5;

test('doubles the delay after each failed attempt, up to the longest single wait', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, schedule, middle)), [10_000, 20_000, 40_000, 80_000]);
  assert.equal(backoffDelay(30, schedule, middle), 3_600_000);
});

test('spreads each delay by ±25 % with jitter', () => {
  assert.equal(backoffDelay(1, schedule, () => 0), 7500);
  assert.equal(backoffDelay(1, schedule, () => 0.999999), 12_500);
});

test('spans the default day with about thirty attempts', () => {
  let now = 0;
  let attempts = 1;
  for (;;) {
    const plan = planRetry({ failedAttempts: attempts, windowStartedAt: 0, windowMs: 24 * 3600_000, now, schedule, random: middle });
    if (plan.kind === 'expired') break;
    now += plan.delayMs;
    attempts++;
  }
  assert.ok(attempts >= 25 && attempts <= 40, `${attempts} attempts`);
  assert.equal(now, 24 * 3600_000, 'the last attempt is at the end of the window');
});

test('waits at least as long as Retry-After asks', () => {
  const plan = planRetry({ failedAttempts: 1, windowStartedAt: 0, windowMs: 3600_000, now: 0, retryAfterMs: 120_000, schedule, random: middle });
  assert.deepEqual(plan, { kind: 'retry', delayMs: 120_000 });
});

test('makes a last attempt at the end of the window, then gives up', () => {
  assert.deepEqual(planRetry({ failedAttempts: 10, windowStartedAt: 0, windowMs: 60_000, now: 50_000, schedule, random: middle }), { kind: 'retry', delayMs: 10_000 });
  assert.deepEqual(planRetry({ failedAttempts: 11, windowStartedAt: 0, windowMs: 60_000, now: 60_000, schedule, random: middle }), { kind: 'expired' });
});
