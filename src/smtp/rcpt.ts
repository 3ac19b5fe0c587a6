import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Routes } from '../config/routes.ts';
import type { RecipientCallbacks } from '../routing/callback.ts';
import { resolveRecipient, type Target } from '../routing/resolve.ts';
import { needsMessage } from '../routing/rules.ts';
import { replies, type SmtpReplyError } from './replies.ts';

export type RcptDecision =
  | { readonly ok: true; readonly target: Target }
  | { readonly ok: false; readonly reply: SmtpReplyError; readonly reason: string; readonly countsAsError: boolean };

/**
 * RCPT TO: the routes decide, at RCPT and never later (no accept-then-bounce).
 * smtp-server has already refused what is not an address (501) and stripped a
 * source route (`<@relay:user@domain>`, which RFC 5321 appendix C says to accept
 * and ignore), so only `user@domain` reaches here; routing/resolve.ts decides the
 * rest: unconfigured domains, address literals, unknown local parts. Nothing is
 * ever relayed: an accepted recipient is one of a route's, and its delivery goes
 * to that route's endpoint.
 *
 * A refused address counts as an error (address harvesting); one recipient over
 * the limit does not, because RFC 5321 4.5.3.1.10 tells the client to send the
 * rest in another transaction, which a pipelining client learns only afterwards.
 */
export function decideRecipient(routes: Routes, address: SMTPServerAddress, session: SMTPServerSession, maxRecipients: number): RcptDecision {
  const accepted = session.envelope.rcptTo;
  const repeated = accepted.some((r) => r.address.toLowerCase() === address.address.toLowerCase());
  if (accepted.length >= maxRecipients && !repeated) {
    return { ok: false, reply: replies.tooManyRecipients(maxRecipients), reason: 'too-many-recipients', countsAsError: false };
  }
  const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
  const resolution = resolveRecipient(routes, address.address, mailFrom);
  const token = resolution.ok ? resolution.target.replyToken : null;
  if (resolution.ok && resolution.target.requireValidToken && token && !token.valid) {
    const reason = token.reason === 'expired' ? 'expired' : 'not valid';
    return { ok: false, reply: replies.replyAddressRefused(reason), reason: `reply-token-${token.reason}`, countsAsError: true };
  }
  // A reject rule that the envelope alone decides refuses this recipient now;
  // one that needs the message waits for DATA (routing/rules.ts).
  const first = resolution.ok ? resolution.target.rules[0] : undefined;
  if (first && first.rule.reply && !needsMessage(first.rule)) {
    return { ok: false, reply: replies.ruleRejected(first.rule.reply), reason: 'rule-reject', countsAsError: false };
  }
  if (resolution.ok) return resolution;
  const reply =
    resolution.reason === 'unknown-domain'
      ? replies.unknownDomain()
      : resolution.reason === 'unknown-recipient'
        ? replies.unknownRecipient()
        : replies.invalidRecipient();
  return { ok: false, reply, reason: resolution.reason, countsAsError: true };
}

/**
 * The second half of RCPT, for a route with a recipient callback: the application
 * says whether the address exists while the sender is still connected, so an
 * unknown one is refused now rather than bounced later. 2xx accepts, 404/410
 * refuses (550 5.1.1), anything else defers (451 4.3.0) unless the route accepts on error.
 */
export async function confirmRecipient(decision: RcptDecision, callbacks: RecipientCallbacks): Promise<RcptDecision> {
  if (!decision.ok || decision.target.callback === null) return decision;
  const { target } = decision;
  const { check, secrets, policy } = target.callback!;
  const answer = await callbacks.ask(check, { secrets, policy }, target);
  if (answer === 'exists' || (answer === 'error' && check.onError === 'accept')) return decision;
  if (answer === 'unknown') return { ok: false, reply: replies.unknownRecipient(), reason: 'callback-unknown-recipient', countsAsError: true };
  return { ok: false, reply: replies.recipientUnverified(), reason: 'callback-failed', countsAsError: false };
}
