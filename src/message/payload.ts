import type { AuthVerdicts } from '../auth/schema.ts';
import type { MessageDocument } from './types.ts';

/**
 * The JSON document POSTed for one delivery. This is the public contract that
 * applications are written against: change it only by adding fields.
 */
export interface Payload {
  /** The delivery id: the same on every retry and in the `webhook-id` header. */
  readonly id: string;
  /** When mxpost accepted the message (ISO 8601, UTC). */
  readonly receivedAt: string;
  readonly envelope: Envelope;
  readonly route: RouteMatch;
  readonly message: MessageDocument;
  /**
   * SPF, DKIM, DMARC and ARC verdicts (docs/auth.md). Every delivery carries it; it
   * is optional here only because buildPayloads leaves it to the acceptor.
   */
  readonly auth?: AuthVerdicts;
}

export interface Envelope {
  /** MAIL FROM; '' for the null sender of bounces. */
  readonly mailFrom: string;
  /** The RCPT TO addresses that this delivery carries (other routes' recipients are not here). */
  readonly rcptTo: readonly string[];
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The name the client gave in HELO/EHLO. */
  readonly helo: string;
}

export interface RouteMatch {
  /** The routes-file domain that matched, ASCII form. */
  readonly domain: string;
  /** The first recipient of this delivery, as given in RCPT TO. */
  readonly recipient: string;
  /** Its sub-address tag: `support+4821@` gives '4821'; null without one. */
  readonly tag: string | null;
}
