import type { Routes } from '../config/routes.ts';
import { authResultSchema, type AuthResult } from '../auth/schema.ts';
import { decideRecipient } from '../smtp/rcpt.ts';
import { disposeOf, planDeliveries, splitRecipient } from './resolve.ts';
import { chooseRule, envelopeCandidates, type AuthCheck, type MessageFacts } from './rules.ts';

/**
 * `mxpost routes test` and `GET /v1/routes/test`: what the routes in force
 * would do with one recipient of a message, without sending anything. The
 * same functions decide as for real mail (smtp/rcpt.ts, routing/resolve.ts);
 * only the recipient callback is not asked (its URL is shown).
 */
export interface DryRunInput {
  readonly to: string;
  /** MAIL FROM; "" for the null sender. */
  readonly from: string;
  /** Header fields as "Name: value" pairs. */
  readonly headers: readonly (readonly [string, string])[];
  /** Verdicts to assume; a check not given reads "none". */
  readonly auth: Readonly<Partial<Record<AuthCheck, AuthResult>>>;
}

export interface DryRun {
  readonly recipient: string;
  readonly from: string;
  /** At RCPT: accepted, or the reply that refuses it. */
  readonly rcpt: { readonly accepted: true } | { readonly accepted: false; readonly code: number; readonly reply: string; readonly reason: string };
  readonly domain: string | null;
  /** The route's recipient callback, which would be asked at RCPT; null when none applies. */
  readonly callback: string | null;
  /** Every rule of the domain in the order tried, with its result. */
  readonly rules: readonly { readonly name: string; readonly priority: number; readonly action: string; readonly result: 'matched' | 'no match' | 'not reached' }[];
  /** After DATA; null when refused at RCPT. */
  readonly outcome: null | {
    readonly action: 'deliver' | 'hold' | 'drop' | 'reject';
    readonly rule: string | null;
    readonly captures: Readonly<Record<string, string>>;
    readonly deliveries: readonly { readonly url: string; readonly signed: boolean; readonly sync: boolean }[];
    readonly reply: { readonly code: number; readonly text: string } | null;
  };
}

export function dryRun(routes: Routes, input: DryRunInput): DryRun {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of input.headers) (headers[name.toLowerCase()] ??= []).push(value);
  const auth = { spf: 'none', dkim: 'none', dmarc: 'none', arc: 'none', ...input.auth };
  const facts: MessageFacts = { headers, auth };
  const session = { envelope: { mailFrom: input.from === '' ? false : { address: input.from, args: false }, rcptTo: [] } };
  // The limit on recipients does not apply to one recipient.
  const decision = decideRecipient(routes, { address: input.to, args: false }, session as never, Number.MAX_SAFE_INTEGER);
  const address = splitRecipient(input.to);
  const route = address === null ? undefined : routes.domains.get(address.domain);
  const base = { recipient: input.to, from: input.from, domain: route?.domain ?? null };

  // Each rule on its own, in the order tried, for the trace; the decision itself is the live one's.
  const envelope = { localPart: address?.unquoted ?? '', base: address?.localPart ?? '', mailFrom: input.from };
  let reached = true;
  const rules = (route?.rules ?? []).map((rule) => {
    if (!reached) return { name: rule.name, priority: rule.priority, action: rule.action, result: 'not reached' as const };
    const matched = chooseRule(envelopeCandidates([rule], envelope), facts) !== null;
    if (matched) reached = false;
    return { name: rule.name, priority: rule.priority, action: rule.action, result: matched ? ('matched' as const) : ('no match' as const) };
  });

  if (!decision.ok) {
    const { reply, reason } = decision;
    return { ...base, rcpt: { accepted: false, code: reply.responseCode, reply: reply.message, reason }, callback: null, rules, outcome: null };
  }
  const target = decision.target;
  const disposition = disposeOf(target, facts);
  const plans = planDeliveries([target], new Map([[target, disposition]]));
  return {
    ...base,
    rcpt: { accepted: true },
    callback: target.callback?.check.url ?? null,
    rules,
    outcome: {
      action: disposition.action,
      rule: disposition.rule?.rule.name ?? null,
      captures: disposition.rule?.captures ?? {},
      deliveries: plans.map((plan) => ({ url: plan.endpoint.url, signed: plan.endpoint.secrets.length > 0, sync: target.sync !== null && !plan.held })),
      reply: disposition.action === 'reject' ? (disposition.rule.rule.reply ?? null) : null,
    },
  };
}

/** The dry run as an operator reads it. */
export function formatDryRun(run: DryRun): string {
  const lines = [`recipient ${run.recipient}  from ${run.from === '' ? '<>' : run.from}`];
  lines.push(run.domain ? `route     ${run.domain}` : 'route     none');
  if (!run.rcpt.accepted) lines.push(`RCPT      refused: ${run.rcpt.code} ${run.rcpt.reply}  (${run.rcpt.reason})`);
  else lines.push(`RCPT      accepted${run.callback ? `, after asking the recipient callback ${run.callback}` : ''}`);
  for (const rule of run.rules) lines.push(`  rule ${rule.name} (priority ${rule.priority}, ${rule.action}): ${rule.result}`);
  const outcome = run.outcome;
  if (outcome) {
    const by = outcome.rule ? `rule ${outcome.rule}` : 'no rule: the route';
    const captures = Object.entries(outcome.captures).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    lines.push(`DATA      ${outcome.action} (${by})${captures ? `  captures ${captures}` : ''}`);
    if (outcome.reply) lines.push(`          reply ${outcome.reply.code} ${outcome.reply.text}`);
    for (const d of outcome.deliveries) lines.push(`  → ${d.url}${d.signed ? '  signed' : '  unsigned'}${d.sync ? '  synchronous' : ''}${outcome.action === 'hold' ? '  held until released' : ''}`);
  }
  return lines.join('\n');
}

const CHECKS: readonly AuthCheck[] = ['spf', 'dkim', 'dmarc', 'arc'];

/**
 * The dry run's input from text, as the CLI and the API take it: headers as
 * "Name: value", verdicts as "dmarc=pass". A string: what is wrong.
 */
export function parseDryRunInput(raw: { to: string | null; from?: string | null; headers?: readonly string[]; auth?: readonly string[] }): DryRunInput | string {
  if (!raw.to) return 'give the recipient address to test';
  const headers: (readonly [string, string])[] = [];
  for (const field of raw.headers ?? []) {
    const colon = field.indexOf(':');
    if (colon <= 0) return `a header is "Name: value", got ${JSON.stringify(field)}`;
    headers.push([field.slice(0, colon).trim(), field.slice(colon + 1).trim()]);
  }
  const auth: Partial<Record<AuthCheck, AuthResult>> = {};
  for (const verdict of raw.auth ?? []) {
    const [check, result] = verdict.split('=') as [string, string | undefined];
    if (!CHECKS.includes(check as AuthCheck) || !result || !authResultSchema.safeParse(result).success) {
      return `a verdict is check=result with check ${CHECKS.join('|')} and result ${authResultSchema.options.join('|')}, got ${JSON.stringify(verdict)}`;
    }
    auth[check as AuthCheck] = result as AuthResult;
  }
  const from = raw.from === '<>' ? '' : (raw.from ?? '');
  return { to: raw.to, from, headers, auth };
}
