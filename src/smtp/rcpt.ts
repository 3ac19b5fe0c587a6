import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Routes } from '../config/routes.ts';
import { resolveRecipient, type Target } from '../routing/resolve.ts';
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
  const resolution = resolveRecipient(routes, address.address);
  if (resolution.ok) return resolution;
  const reply =
    resolution.reason === 'unknown-domain'
      ? replies.unknownDomain()
      : resolution.reason === 'unknown-recipient'
        ? replies.unknownRecipient()
        : replies.invalidRecipient();
  return { ok: false, reply, reason: resolution.reason, countsAsError: true };
}
