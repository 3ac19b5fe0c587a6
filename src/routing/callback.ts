import { randomUUID } from 'node:crypto';
import type { DeliveryPolicy } from '../config/routes.ts';
import { addressPolicyFor, checkLiteralHost, createDispatchers } from '../delivery/network.ts';
import { postJson } from '../delivery/post.ts';
import { webhookHeaders } from '../delivery/sign.ts';

/** A route's recipient callback (docs/routing.md). */
export interface RecipientCallback {
  readonly url: string;
  readonly timeoutMs: number;
  /** How long a 2xx or a 404/410 is remembered; errors are never cached. */
  readonly cacheMs: number;
  /** What an error or a timeout means: refuse for now (451) or accept anyway. */
  readonly onError: 'tempfail' | 'accept';
}

/** 'exists' for 2xx, 'unknown' for 404 and 410, 'error' for anything else. */
export type CallbackAnswer = 'exists' | 'unknown' | 'error';

/** At most this many answers are remembered; the oldest go first. */
const MAX_CACHED = 10_000;

/**
 * Asks a route's callback whether a recipient exists, at RCPT time. The request
 * is signed like a delivery (Standard Webhooks, the route's secrets), so the
 * application verifies both with one piece of code; its body is
 * `{ type: "recipient.check", recipient, domain, localPart, tag }`.
 */
export function createRecipientCallbacks(deps: { allowPrivateEndpoints?: boolean; now?: () => number } = {}) {
  const now = deps.now ?? Date.now;
  // The same rules on where a route may connect as its deliveries (delivery/network.ts).
  const dispatchers = createDispatchers({ connectTimeoutMs: 2_000 });
  const cache = new Map<string, { answer: CallbackAnswer; until: number }>();

  async function ask(callback: RecipientCallback, route: { secrets: readonly string[]; policy?: DeliveryPolicy }, rcpt: { recipient: string; domain: string; localPart: string; tag: string | null }): Promise<CallbackAnswer> {
    const key = `${callback.url}\0${rcpt.recipient.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.answer;
    cache.delete(key);

    const id = `rcpt_${randomUUID()}`;
    const timestamp = Math.floor(now() / 1000);
    const body = JSON.stringify({ type: 'recipient.check', recipient: rcpt.recipient, domain: rcpt.domain, localPart: rcpt.localPart, tag: rcpt.tag });
    const headers = webhookHeaders(route.secrets, id, timestamp, body);
    const policy = addressPolicyFor(route.policy, deps.allowPrivateEndpoints ?? true);
    let answer: CallbackAnswer;
    try {
      checkLiteralHost(callback.url, policy);
      const { status } = await postJson({ url: callback.url, body, headers, timeoutMs: callback.timeoutMs, dispatcher: dispatchers.for(policy) });
      answer = status >= 200 && status < 300 ? 'exists' : status === 404 || status === 410 ? 'unknown' : 'error';
    } catch {
      // Timeout, refused connection, reset, a forbidden address: the application could not answer.
      answer = 'error';
    }
    if (answer !== 'error' && callback.cacheMs > 0) {
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
      cache.set(key, { answer, until: now() + callback.cacheMs });
    }
    return answer;
  }

  return { ask, close: () => dispatchers.close() };
}

export type RecipientCallbacks = ReturnType<typeof createRecipientCallbacks>;
