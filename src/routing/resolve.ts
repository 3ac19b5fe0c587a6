import type { AuthPolicy } from '../auth/policy.ts';
import type { DeliveryPolicy, Endpoint, PayloadOptions, Routes } from '../config/routes.ts';
import type { RecipientCallback } from './callback.ts';
import { normalizeDomain } from './domain.ts';
import { verifyReplyToken, type ReplyToken } from './reply-address.ts';
import { chooseRule, endpointUrl, envelopeCandidates, namesRecipient, type MessageFacts, type RuleCandidate } from './rules.ts';

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
  /** The route's auth policy and delivery policy, as they stood at RCPT. */
  readonly auth: AuthPolicy;
  readonly delivery: DeliveryPolicy;
  /** The route's rules whose envelope conditions hold for this recipient, in order (routing/rules.ts). */
  readonly rules: readonly RuleCandidate[];
}

export type Resolution =
  | { readonly ok: true; readonly target: Target }
  | { readonly ok: false; readonly reason: 'invalid-address' | 'unknown-domain' | 'unknown-recipient' };

/**
 * Decides, for one RCPT TO address, which route and endpoint take it, if any,
 * and which of the route's rules may still take it once the message is in.
 */
export function resolveRecipient(routes: Routes, recipient: string, mailFrom = '', now = Date.now()): Resolution {
  const address = splitRecipient(recipient);
  if (address === null) return { ok: false, reason: 'invalid-address' };
  const { domain, unquoted, localPart, tag } = address;
  const route = routes.domains.get(domain);
  if (!route) return { ok: false, reason: 'unknown-domain' };

  // Routes never name a local part with '+' in it (the loader refuses one), so the
  // part before the tag is the whole key.
  const envelope = { localPart: unquoted, base: localPart, mailFrom };
  const rules = envelopeCandidates(route.rules, envelope);
  const base = { recipient, domain, localPart, tag, payload: route.payload, sync: route.sync, auth: route.auth, delivery: route.delivery, requireValidToken: false, rules };
  // A reply address is vouched for by its token, so the callback is not asked about it.
  const reply = route.replyTokens;
  if (reply && localPart === reply.localPart && !route.addresses.has(localPart)) {
    const replyToken = verifyReplyToken({ token: tag ?? '', domain, secrets: route.endpoint.secrets, now });
    return { ok: true, target: { ...base, address: null, endpoint: route.endpoint, callback: null, replyToken, requireValidToken: reply.require } };
  }
  const callback = route.callback ? { check: route.callback, secrets: route.endpoint.secrets, policy: route.delivery } : null;
  const override = route.addresses.get(localPart);
  if (override) return { ok: true, target: { ...base, address: localPart, endpoint: override, callback, replyToken: null } };
  if (route.catchAll || route.recipients.has(localPart) || namesRecipient(route.rules, envelope)) {
    return { ok: true, target: { ...base, address: null, endpoint: route.endpoint, callback, replyToken: null } };
  }
  return { ok: false, reason: 'unknown-recipient' };
}

/**
 * A recipient address in the parts routing matches on; null when it is not
 * `local@domain` with a valid domain.
 *
 * Local parts match case-insensitively: RFC 5321 allows case-sensitive
 * mailboxes, but no real sender relies on it and every hosted service folds case.
 * A quoted local part names the same mailbox as its unquoted text (RFC 5321
 * 4.1.2): `"Support"@` is `support@`. `%` and `!` are ordinary characters of a
 * local part here, never a relay instruction (the percent hack and bang paths).
 */
export function splitRecipient(recipient: string): { domain: string; unquoted: string; localPart: string; tag: string | null } | null {
  const at = recipient.lastIndexOf('@');
  if (at <= 0 || at === recipient.length - 1) return null;
  const domain = normalizeDomain(recipient.slice(at + 1));
  if (domain === null) return null;
  const unquoted = unquoteLocalPart(recipient.slice(0, at));
  const full = unquoted.toLowerCase();
  const plus = full.indexOf('+');
  // The local part as sent, its lower-case key without the tag, and the tag.
  return { domain, unquoted, localPart: plus > 0 ? full.slice(0, plus) : full, tag: plus > 0 ? unquoted.slice(plus + 1) : null };
}

function unquoteLocalPart(local: string): string {
  if (local.length < 2 || !local.startsWith('"') || !local.endsWith('"')) return local;
  return local.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** What the rules decided for one recipient once the message is in (routing/rules.ts). */
export type Disposition =
  | { readonly action: 'deliver' | 'hold'; readonly rule: RuleCandidate | null }
  | { readonly action: 'drop' | 'reject'; readonly rule: RuleCandidate };

/** The first of the recipient's rules that takes the message; none: its own endpoint. */
export function disposeOf(target: Target, facts: MessageFacts): Disposition {
  const chosen = chooseRule(target.rules, facts);
  if (chosen === null) return { action: 'deliver', rule: null };
  return { action: chosen.rule.action, rule: chosen } as Disposition;
}

/** Which endpoint of a rule a delivery goes to, so that the worker finds its secrets. */
export interface RuleRef {
  readonly name: string;
  /** Index in the rule's `to`. */
  readonly endpoint: number;
}

/** One delivery to plan: an endpoint and the recipients of this message that it takes. */
export interface DeliveryPlan {
  readonly domain: string;
  readonly address: string | null;
  readonly endpoint: Endpoint;
  readonly targets: readonly Target[];
  /** The rule that sent it there, with what it captured; null: no rule, the recipient's own endpoint. */
  readonly rule: { readonly name: string; readonly captures: Readonly<Record<string, string>> } | null;
  /** The rule endpoint whose secrets sign it; null: the domain's or the address's. */
  readonly ref: RuleRef | null;
  /** Kept until released from the CLI or the API (a hold rule). */
  readonly held: boolean;
}

const OWN_ENDPOINT: Disposition = { action: 'deliver', rule: null };

/**
 * Groups the accepted recipients of one message by endpoint, in RCPT order:
 * one delivery per (message, endpoint), each carrying only its own recipients.
 * A rule's endpoints are each a delivery of their own (fan-out); dropped and
 * rejected recipients have none.
 */
export function planDeliveries(targets: readonly Target[], dispositions: ReadonlyMap<Target, Disposition> = new Map()): DeliveryPlan[] {
  const plans = new Map<string, DeliveryPlan & { targets: Target[] }>();
  for (const target of targets) {
    const disposition = dispositions.get(target) ?? OWN_ENDPOINT;
    if (disposition.action === 'drop' || disposition.action === 'reject') continue;
    const held = disposition.action === 'hold';
    const chosen = disposition.rule;
    const rule = chosen && { name: chosen.rule.name, captures: chosen.captures };
    const endpoints =
      chosen && chosen.rule.to.length > 0
        ? chosen.rule.to.map((to, index) => ({ endpoint: { url: endpointUrl(to.template, chosen.captures), secrets: to.secrets }, ref: { name: chosen.rule.name, endpoint: index }, address: null }))
        : [{ endpoint: target.endpoint, ref: null, address: target.address }];
    for (const { endpoint, ref, address } of endpoints) {
      const key = [target.domain, address ?? '', rule?.name ?? '', ref?.endpoint ?? '', endpoint.url, held].join('\0');
      let plan = plans.get(key);
      if (!plan) {
        plan = { domain: target.domain, address, endpoint, targets: [], rule, ref, held };
        plans.set(key, plan);
      }
      if (!plan.targets.some((t) => t.recipient.toLowerCase() === target.recipient.toLowerCase())) plan.targets.push(target);
    }
  }
  return [...plans.values()];
}
