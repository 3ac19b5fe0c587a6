import type { Readable } from 'node:stream';
import type { SMTPServerSession } from 'smtp-server';
import type { Logger } from '../observability/logger.ts';
import type { Target } from '../routing/resolve.ts';
import { collectMessage, type Collected } from './collect.ts';
import type { SessionHandle } from './server.ts';
import { createDataBudget, type SessionLimits } from './limits.ts';
import { isSmtpReplyError, replies, type SmtpReplyError } from './replies.ts';
import type { TlsDetails } from './tls.ts';

/** A message whose DATA is complete, handed to whatever stores it. */
export interface ReceivedMessage {
  /** The message as received, every line ending normalised to CRLF (line-endings.ts). */
  readonly raw: Buffer;
  readonly receivedAt: Date;
  readonly mailFrom: string;
  /** Accepted recipients, in RCPT order, each with the route it matched at RCPT time. */
  readonly targets: readonly Target[];
  /** The client's address: from the PROXY header when one is trusted, else the socket's. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly helo: string;
  /** The session's TLS after STARTTLS; null for plaintext. */
  readonly tls: TlsDetails | null;
  /** MAIL FROM carried SMTPUTF8 (RFC 6531) and BODY=8BITMIME (RFC 6152). */
  readonly smtpUtf8: boolean;
  readonly eightBitMime: boolean;
}

/**
 * Stores the message durably and returns its queue id. Throwing an SmtpReplyError
 * chooses the reply; anything else is our failure: 451. `signal` aborts once the
 * client has been answered 451 for taking too long: nothing may be stored after it.
 */
export type Accept = (message: ReceivedMessage, signal: AbortSignal) => Promise<string>;

type DataLimits = Pick<SessionLimits, 'maxMessageBytes' | 'maxHeaderBytes' | 'dataTimeoutMs' | 'dataMinRate' | 'dataReplyTimeoutMs'>;

/**
 * DATA, from the 354 to our reply: reads the message within its limits (size,
 * header size, the time budget of limits.ts), then hands it to `accept` with a
 * deadline for the reply. One log line per transaction.
 */
export function createDataStage(options: { limits: DataLimits; accept: Accept; logger: Logger }) {
  const { limits, logger } = options;

  return async function receive(
    stream: Readable,
    session: SMTPServerSession,
    context: { targets: readonly (Target | undefined)[]; tls: TlsDetails | null; handle: SessionHandle | undefined },
  ): Promise<string> {
    const envelope = session.envelope;
    const mailFrom = envelope.mailFrom === false ? '' : envelope.mailFrom.address;
    const base = {
      action: 'transaction',
      client: session.remoteAddress,
      helo: session.hostNameAppearsAs,
      mailFrom,
      rcptTo: envelope.rcptTo.map((r) => r.address),
      tls: context.tls?.protocol ?? null,
    };

    let tooSlow = false;
    const budget = createDataBudget({
      timeoutMs: limits.dataTimeoutMs,
      minRate: limits.dataMinRate,
      onExpired: () => {
        tooSlow = true;
        context.handle?.closeWith(replies.dataTooSlow());
      },
    });
    let collected: Collected;
    try {
      collected = await collectMessage(stream, { maxBytes: limits.maxMessageBytes, maxHeaderBytes: limits.maxHeaderBytes }, (n) => budget.received(n));
    } catch (err) {
      // The client left, or was cut off, before the final dot: nothing is stored,
      // and there is no one to answer.
      logger.info({ ...base, code: tooSlow ? 421 : null, reason: tooSlow ? 'data-too-slow' : 'disconnected', cause: (err as Error).message }, 'message abandoned mid-DATA');
      throw replies.localError();
    } finally {
      budget.stop();
    }

    const logged = { ...base, size: collected.size, bareLineEndings: collected.bareLineEndings || undefined };
    const refuse = (reply: SmtpReplyError, reason: string, err?: unknown): never => {
      const level = reply.responseCode >= 500 ? 'info' : 'warn';
      logger[level]({ ...logged, code: reply.responseCode, reason, err: err === undefined || isSmtpReplyError(err) ? undefined : err }, 'message not accepted');
      throw reply;
    };
    if (collected.verdict === 'too-big') refuse(replies.messageTooBig(limits.maxMessageBytes), 'too-big');
    if (collected.verdict === 'header-too-big') refuse(replies.headerTooBig(limits.maxHeaderBytes), 'header-too-big');
    const targets = context.targets.filter((t): t is Target => t !== undefined);
    if (targets.length !== context.targets.length) refuse(replies.localError(), 'a recipient has no route decided at RCPT');

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), limits.dataReplyTimeoutMs);
    try {
      const accepting = options.accept(
        {
          raw: collected.raw,
          receivedAt: new Date(),
          mailFrom,
          targets,
          remoteAddress: session.remoteAddress,
          remotePort: session.remotePort,
          helo: session.hostNameAppearsAs || '',
          tls: context.tls,
          smtpUtf8: envelope.smtpUtf8 === true,
          eightBitMime: envelope.bodyType === '8bitmime',
        },
        deadline.signal,
      );
      // Still running after a timeout reply: its outcome has no one to tell.
      accepting.catch(() => undefined);
      const queueId = await Promise.race([accepting, aborted(deadline.signal)]);
      logger.info({ ...logged, code: 250, queueId }, 'message accepted');
      return replies.queued(queueId);
    } catch (err) {
      if (deadline.signal.aborted) return refuse(replies.replyTimeout(), 'reply-timeout');
      return refuse(isSmtpReplyError(err) ? err : replies.localError(), isSmtpReplyError(err) ? 'refused' : (err as Error).message, err);
    } finally {
      clearTimeout(timer);
    }
  };
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
}
