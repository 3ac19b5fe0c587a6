/**
 * When the next attempt of a failed delivery runs, or whether its retry window
 * is spent. Pure, so that the schedule is tested without waiting for it.
 */
export interface RetrySchedule {
  /** The delay after the first failed attempt; each next one doubles. */
  readonly baseDelayMs: number;
  /** No single wait is longer than this, however many attempts failed. */
  readonly maxDelayMs: number;
}

/**
 * Exponential back-off with jitter: base × 2^(n−1), capped, then spread ±25 %
 * so that deliveries that failed together do not all come back together.
 */
export function backoffDelay(failedAttempts: number, schedule: RetrySchedule, random: () => number = Math.random): number {
  const exponential = schedule.baseDelayMs * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 30);
  const capped = Math.min(exponential, schedule.maxDelayMs);
  return Math.round(capped * (0.75 + 0.5 * random()));
}

export type RetryPlan = { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'expired' };

/**
 * The window runs from acceptance (or from a replay). A last attempt is made at
 * its very end rather than skipped because the next back-off step would overshoot.
 */
export function planRetry(input: {
  failedAttempts: number;
  windowStartedAt: number;
  windowMs: number;
  now: number;
  retryAfterMs?: number | undefined;
  schedule: RetrySchedule;
  random?: () => number;
}): RetryPlan {
  const end = input.windowStartedAt + input.windowMs;
  const left = end - input.now;
  if (left <= 0) return { kind: 'expired' };
  const delay = Math.max(backoffDelay(input.failedAttempts, input.schedule, input.random), input.retryAfterMs ?? 0);
  return { kind: 'retry', delayMs: Math.min(delay, left) };
}
