import type { DeliveryPolicy, Endpoint, PayloadOptions, Routes } from '../config/routes.ts';
import type { RecipientCallback } from './callback.ts';
import { normalizeDomain } from './domain.ts';
import { verifyReplyToken, type ReplyToken } from './reply-address.ts';

/** Where one accepted recipient goes. */
export interface Target {
  /** The address as the client gave it in RCPT TO. */
  readonly recipient: string;
  readonly domain: string;
  /** Lower-case local part without its tag: the key that matched. */
  readonly localPart: string;
  /** The sub-address after '+': `support+4821@` gives '4821'. */
  readonly tag: string | null;
  /** Local part of the per-address override that applies, or null for the domain's endpoint. */
  readonly address: string | null;
  readonly endpoint: Endpoint;
  /** The domain's payload options, as they stood at RCPT. */
  readonly payload: PayloadOptions;
  /** The route's recipient callback, still to be asked at RCPT; null: none applies. */
  readonly callback: { readonly check: RecipientCallback; readonly secrets: readonly string[]; readonly policy: DeliveryPolicy } | null;
  /** For a reply address of a route with replyTokens, the token's verdict; otherwise null. */
  readonly replyToken: ReplyToken | null;
  /** The route's synchronous mode, as it stood at RCPT; null: queued delivery. */
  readonly sync: { readonly timeoutMs: number } | null;
  /** The route refuses reply addresses whose token is not valid. */
  readonly requireValidToken: boolean;
}

export type Resolution =
  | { readonly ok: true; readonly target: Target }
  | { readonly ok: false; readonly reason: 'invalid-address' | 'unknown-domain' | 'unknown-recipient' };

/** Decides, for one RCPT TO address, which route and endpoint take it, if any. */
export function resolveRecipient(routes: Routes, recipient: string, now = Date.now()): Resolution {
  const at = recipient.lastIndexOf('@');
  if (at <= 0 || at === recipient.length - 1) return { ok: false, reason: 'invalid-address' };
  const domain = normalizeDomain(recipient.slice(at + 1));
  if (domain === null) return { ok: false, reason: 'invalid-address' };
  const route = routes.domains.get(domain);
  if (!route) return { ok: false, reason: 'unknown-domain' };

  // Local parts match case-insensitively: RFC 5321 allows case-sensitive
  // mailboxes, but no real sender relies on it and every hosted service folds case.
  // A quoted local part names the same mailbox as its unquoted text (RFC 5321
  // 4.1.2): `"Support"@` is `support@`. `%` and `!` are ordinary characters of a
  // local part here, never a relay instruction (the percent hack and bang paths).
  const unquoted = unquoteLocalPart(recipient.slice(0, at));
  const full = unquoted.toLowerCase();
  const plus = full.indexOf('+');
  const localPart = plus > 0 ? full.slice(0, plus) : full;
  const tag = plus > 0 ? unquoted.slice(plus + 1) : null;

  // Routes never name a local part with '+' in it (the loader refuses one), so the
  // part before the tag is the whole key.
  const base = { recipient, domain, localPart, tag, payload: route.payload, sync: route.sync, requireValidToken: false };
  // A reply address is vouched for by its token, so the callback is not asked about it.
  const reply = route.replyTokens;
  if (reply && localPart === reply.localPart && !route.addresses.has(localPart)) {
    const replyToken = verifyReplyToken({ token: tag ?? '', domain, secrets: route.endpoint.secrets, now });
    return { ok: true, target: { ...base, address: null, endpoint: route.endpoint, callback: null, replyToken, requireValidToken: reply.require } };
  }
  const callback = route.callback ? { check: route.callback, secrets: route.endpoint.secrets, policy: route.delivery } : null;
  const override = route.addresses.get(localPart);
  if (override) return { ok: true, target: { ...base, address: localPart, endpoint: override, callback, replyToken: null } };
  if (route.catchAll || route.recipients.has(localPart)) {
    return { ok: true, target: { ...base, address: null, endpoint: route.endpoint, callback, replyToken: null } };
  }
  return { ok: false, reason: 'unknown-recipient' };
}

function unquoteLocalPart(local: string): string {
  if (local.length < 2 || !local.startsWith('"') || !local.endsWith('"')) return local;
  return local.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** One delivery to plan: an endpoint and the recipients of this message that it takes. */
export interface DeliveryPlan {
  readonly domain: string;
  readonly address: string | null;
  readonly endpoint: Endpoint;
  readonly targets: readonly Target[];
}

/**
 * Groups the accepted recipients of one message by endpoint, in RCPT order:
 * one delivery per (message, endpoint), each carrying only its own recipients.
 */
export function planDeliveries(targets: readonly Target[]): DeliveryPlan[] {
  const plans = new Map<string, { domain: string; address: string | null; endpoint: Endpoint; targets: Target[] }>();
  for (const target of targets) {
    const key = `${target.domain}\0${target.address ?? ''}`;
    let plan = plans.get(key);
    if (!plan) {
      plan = { domain: target.domain, address: target.address, endpoint: target.endpoint, targets: [] };
      plans.set(key, plan);
    }
    if (!plan.targets.some((t) => t.recipient.toLowerCase() === target.recipient.toLowerCase())) plan.targets.push(target);
  }
  return [...plans.values()];
}
