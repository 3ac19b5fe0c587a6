import type { DeliveryPolicy, Endpoint } from '../config/routes.ts';
import { addressPolicyFor, checkLiteralHost, createDispatchers } from '../delivery/network.ts';
import { postJson } from '../delivery/post.ts';
import { webhookHeaders } from '../delivery/sign.ts';
import type { DeliveryJob } from '../queue/deliveries.ts';

/**
 * Synchronous mode (docs/routing.md): the reply to DATA waits for the endpoint,
 * so the endpoint's verdict reaches the sending server. Nothing is queued for a
 * synchronous delivery: a 2xx is final, and anything else is handed back to the
 * sender, which keeps the message (4xx) or bounces it to its author (5xx).
 */

/** What the SMTP reply to DATA becomes for one synchronous delivery. */
export type SyncOutcome =
  | { readonly kind: 'delivered'; readonly status: number }
  /** The endpoint refused the mail (a 4xx): 550 with its text. */
  | { readonly kind: 'refused'; readonly status: number; readonly text: string }
  /** Not the sender's fault, not final: 451 and the sender retries. */
  | { readonly kind: 'deferred'; readonly reason: string };

/**
 * The one place a synchronous answer is read. 408 and 429 are the endpoint
 * being busy, not refusing, so they defer like a 5xx; a redirect is never
 * followed and is a misconfiguration on our side, so it defers too.
 */
export function classifySync(status: number, bodyStart: string): SyncOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'refused', status, text: bodyStart.trim() || `HTTP ${status}` };
  return { kind: 'deferred', reason: `endpoint answered ${status}` };
}

export interface SyncDelivery {
  /** POSTs one delivery as the worker would (same body, id, signature) and reads the verdict. */
  deliver(job: DeliveryJob, endpoint: Endpoint, policy: DeliveryPolicy, timeoutMs: number): Promise<SyncOutcome>;
  close(): Promise<void>;
}

export function createSyncDelivery(options: { userAgent: string; allowPrivateEndpoints: boolean; connectTimeoutMs?: number }): SyncDelivery {
  const dispatchers = createDispatchers({ connectTimeoutMs: options.connectTimeoutMs ?? 5_000 });
  return {
    async deliver(job, endpoint, policy, timeoutMs) {
      // The same address policy as the worker's: a route cannot reach further synchronously.
      const addressPolicy = addressPolicyFor(policy, options.allowPrivateEndpoints);
      const body = JSON.stringify(job.payload);
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        checkLiteralHost(job.url, addressPolicy);
        const result = await postJson({
          url: job.url,
          body,
          timeoutMs,
          dispatcher: dispatchers.for(addressPolicy),
          headers: {
            'user-agent': options.userAgent,
            ...webhookHeaders(endpoint.secrets, job.deliveryId, timestamp, body),
          },
        });
        return classifySync(result.status, result.bodyStart);
      } catch (err) {
        return { kind: 'deferred', reason: (err as Error).message };
      }
    },
    close: () => dispatchers.close(),
  };
}
