import type { PostResult } from './post.ts';

/**
 * The one place that decides what a webhook response means. Pure: a response or
 * an error in, a verdict out. BullMQ is the only layer that retries: a `retry`
 * verdict makes the attempt fail and BullMQ schedules the next one, until the
 * attempts are spent and the delivery stays as a dead letter.
 */
export type Outcome =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'retry'; readonly reason: string };

export function classifyResponse(result: PostResult): Outcome {
  if (result.status >= 200 && result.status < 300) return { kind: 'delivered', status: result.status };
  if (result.status >= 300 && result.status < 400) {
    const location = result.headers.location;
    return { kind: 'retry', reason: `HTTP ${result.status} redirect to ${String(location ?? '?')} (redirects are not followed)` };
  }
  const body = result.bodyStart.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { kind: 'retry', reason: `HTTP ${result.status}${body ? `: ${body}` : ''}` };
}

export function classifyError(err: unknown): Outcome {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') {
    return { kind: 'retry', reason: 'timeout' };
  }
  return { kind: 'retry', reason: `${e?.code ?? e?.name ?? 'Error'}: ${e?.message ?? String(err)}` };
}
