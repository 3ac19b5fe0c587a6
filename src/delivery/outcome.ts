import type { PostResult } from './post.ts';

/**
 * The one place that decides what an attempt's result means. Pure: a response
 * or an error in, a verdict out. BullMQ is the only layer that retries; the
 * worker turns `retry` into a scheduled attempt and `permanent` into a dead letter.
 */
export type Outcome =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number }
  | { readonly kind: 'permanent'; readonly reason: string; readonly status?: number };

export interface ResponsePolicy {
  /** Statuses that dead-letter at once (410 is always one). */
  readonly permanentStatuses: ReadonlySet<number>;
  /** Attempts a client error (other 4xx, redirects) gets before it is permanent. */
  readonly clientErrorAttempts: number;
}

/** `Retry-After` above this is read as this: an endpoint must not park a delivery for days. */
export const RETRY_AFTER_CAP_MS = 3600_000;

export function classifyResponse(result: PostResult, policy: ResponsePolicy, attempt: number, now = Date.now()): Outcome {
  const { status } = result;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const body = result.bodyStart.replace(/\s+/g, ' ').trim().slice(0, 200);
  const reason = `HTTP ${status}${body ? `: ${body}` : ''}`;
  if (policy.permanentStatuses.has(status)) return { kind: 'permanent', status, reason: `${reason} (permanent for this route)` };
  // Overload and server trouble cure themselves: retry, as the endpoint asks.
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(header(result.headers['retry-after']), now);
    return retryAfterMs === null ? { kind: 'retry', status, reason } : { kind: 'retry', status, reason, retryAfterMs };
  }
  const why =
    status >= 300 && status < 400
      ? `HTTP ${status} redirect to ${header(result.headers.location) ?? '(no Location)'}: redirects are not followed, update the route's URL`
      : reason;
  // A client error rarely cures itself, but a deploy in progress can answer 404
  // for a minute: a few attempts, then a dead letter the operator can replay.
  return attempt < policy.clientErrorAttempts ? { kind: 'retry', status, reason: why } : { kind: 'permanent', status, reason: why };
}

// The network failures worth another try, as undici's own retry handler lists them.
const RETRYABLE_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'ENETDOWN', 'ENETUNREACH', 'EHOSTDOWN', 'EHOSTUNREACH', 'EPIPE', 'ETIMEDOUT',
  'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

export function classifyError(err: unknown, timeoutMs: number): Outcome {
  const e = (err ?? {}) as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  if (e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { kind: 'retry', reason: `timeout: no complete response within ${timeoutMs} ms` };
  }
  // Configuration problems: a replay after the fix delivers them.
  if (e.name === 'EndpointAddressError' || e.name === 'RouteGoneError' || e.name === 'MessageGoneError') return { kind: 'permanent', reason: e.message ?? e.name };
  if (code && (RETRYABLE_CODES.has(code) || code.startsWith('UND_ERR_'))) {
    return { kind: 'retry', reason: `${code}: ${e.message ?? e.cause?.message ?? ''}`.trim() };
  }
  // Not a network failure: a bug of ours, which retrying would only repeat.
  return { kind: 'permanent', reason: `internal error: ${e.name ?? 'Error'}: ${e.message ?? String(err)}` };
}

/** `Retry-After` as delay-seconds or an HTTP-date, capped; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return null;
    ms = date - now;
  }
  return Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
