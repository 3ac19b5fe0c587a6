import { matchAny, type Pattern } from './patterns.ts';
import type { RuleAction } from './rules-schema.ts';

/**
 * Routing rules (docs/routing.md): per domain, tried in order of priority
 * (higher first, then file order), the first whose every condition holds
 * decides. Recipient and sender are known at RCPT; headers and auth verdicts
 * only once DATA is in. So a recipient's rules are tried in two steps:
 *
 *   at RCPT  `envelopeCandidates` keeps the rules whose envelope conditions
 *            hold, up to the first that has no other condition: that one takes
 *            every message that gets that far. When it is the first of them
 *            and rejects, the recipient is refused there and then.
 *   at DATA  `chooseRule` takes the first candidate whose header and auth
 *            conditions hold. None: the recipient's own endpoint, as without rules.
 */

export interface RuleEndpoint {
  /** The URL as written, with `{capture}` placeholders. */
  readonly template: string;
  /** Newest first; the route's when the endpoint names none. */
  readonly secrets: readonly string[];
}

export interface RuleConditions {
  readonly recipient?: readonly Pattern[] | undefined;
  readonly from?: readonly Pattern[] | undefined;
  readonly headers?: readonly { readonly name: string; readonly patterns: readonly Pattern[] }[] | undefined;
  readonly auth?: Readonly<Partial<Record<AuthCheck, readonly string[]>>> | undefined;
}

export type AuthCheck = 'spf' | 'dkim' | 'dmarc' | 'arc';

export interface Rule {
  readonly name: string;
  readonly priority: number;
  readonly match: RuleConditions;
  readonly action: RuleAction;
  /** deliver and hold: each endpoint is a delivery of its own; empty: the recipient's own endpoint. */
  readonly to: readonly RuleEndpoint[];
  /** reject: the reply. */
  readonly reply: { readonly code: number; readonly text: string } | null;
}

export interface RuleCandidate {
  readonly rule: Rule;
  /** Named groups captured by the rule's regular expressions so far. */
  readonly captures: Readonly<Record<string, string>>;
}

/** What DATA brings that rules can match on. */
export interface MessageFacts {
  /** Lower-case field name → values, unfolded and decoded (the payload's headersByName). */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** The one-word verdicts (auth/schema.ts authSummary); null when authentication did not run. */
  readonly auth: Readonly<Record<AuthCheck, string>> | null;
}

/** Sorts a domain's rules into the order they are tried: priority, then file order. */
export function orderRules(rules: readonly Rule[]): Rule[] {
  return rules.map((rule, index) => ({ rule, index })).sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index).map(({ rule }) => rule);
}

/** Whether a rule can only be decided once the message is in. */
export function needsMessage(rule: Rule): boolean {
  return rule.match.headers !== undefined || rule.match.auth !== undefined;
}

/**
 * The envelope step. `localPart` is the recipient's local part as sent (with
 * its +tag); `base` is it lower-cased without the tag, as `recipients` lists it.
 */
export function envelopeCandidates(rules: readonly Rule[], envelope: { localPart: string; base: string; mailFrom: string }): RuleCandidate[] {
  const candidates: RuleCandidate[] = [];
  for (const rule of rules) {
    const captures = matchEnvelope(rule.match, envelope);
    if (captures === null) continue;
    candidates.push({ rule, captures });
    if (!needsMessage(rule)) break;
  }
  return candidates;
}

function matchEnvelope(match: RuleConditions, envelope: { localPart: string; base: string; mailFrom: string }): Record<string, string> | null {
  let captures: Record<string, string> = {};
  if (match.recipient) {
    const found = matchRecipient(match.recipient, envelope);
    if (found === null) return null;
    captures = { ...captures, ...found };
  }
  if (match.from) {
    const found = matchAny(match.from, envelope.mailFrom === '' ? '<>' : envelope.mailFrom);
    if (found === null) return null;
    captures = { ...captures, ...found };
  }
  return captures;
}

// Text and wildcards name a mailbox as `recipients` does (no case, no tag); a
// regular expression sees the local part as sent, tag included, to capture from it.
function matchRecipient(patterns: readonly Pattern[], envelope: { localPart: string; base: string }): Record<string, string> | null {
  for (const pattern of patterns) {
    const captures = pattern.source.startsWith('/') ? pattern.match(envelope.localPart) : pattern.match(envelope.base);
    if (captures) return captures;
  }
  return null;
}

/**
 * Whether some rule names this recipient: naming it accepts it, as `recipients`
 * does (a reject rule's own reply then answers it, at RCPT or after DATA).
 */
export function namesRecipient(rules: readonly Rule[], envelope: { localPart: string; base: string }): boolean {
  return rules.some((rule) => rule.match.recipient !== undefined && matchRecipient(rule.match.recipient, envelope) !== null);
}

/** The DATA step: the candidate that takes the message, with every capture; null when none does. */
export function chooseRule(candidates: readonly RuleCandidate[], facts: MessageFacts): RuleCandidate | null {
  for (const candidate of candidates) {
    const captures = matchMessage(candidate.rule.match, facts);
    if (captures !== null) return { rule: candidate.rule, captures: { ...candidate.captures, ...captures } };
  }
  return null;
}

function matchMessage(match: RuleConditions, facts: MessageFacts): Record<string, string> | null {
  let captures: Record<string, string> = {};
  for (const { name, patterns } of match.headers ?? []) {
    let found: Record<string, string> | null = null;
    for (const value of facts.headers[name] ?? []) {
      found = matchAny(patterns, value);
      if (found) break;
    }
    if (found === null) return null;
    captures = { ...captures, ...found };
  }
  for (const [check, results] of Object.entries(match.auth ?? {}) as [AuthCheck, readonly string[]][]) {
    if (facts.auth === null || !results.includes(facts.auth[check])) return null;
  }
  return captures;
}

/** A placeholder `{name}` of an endpoint URL template; `name` is a regular expression group name. */
export const PLACEHOLDER = /\{([A-Za-z_$][\w$]*)\}/g;

/** The names of an endpoint URL template's placeholders. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * An endpoint's URL for one message: each `{name}` becomes its capture,
 * percent-encoded, so that a capture can add neither a path segment nor a query.
 * A group that did not take part in the match gives "".
 */
export function endpointUrl(template: string, captures: Readonly<Record<string, string>>): string {
  return new URL(template.replace(PLACEHOLDER, (_, name: string) => encodeURIComponent(captures[name] ?? ''))).href;
}
