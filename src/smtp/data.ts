import type { Readable } from 'node:stream';
import type { SMTPServerSession } from 'smtp-server';
import type { Logger } from '../observability/logger.ts';
import { replyClass, type Metrics } from '../observability/metrics.ts';
import type { Tracing } from '../observability/tracing.ts';
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
  /** The SMTP transaction's trace context (W3C traceparent), when tracing is on. */
  readonly traceparent?: string | undefined;
}

/** What storing a message gave: for the 250, the log line and the metrics. */
export interface Accepted {
  readonly queueId: string;
  readonly deliveryIds: readonly string[];
  /** The routes-file domains it was accepted for. */
  readonly domains: readonly string[];
  /** Each check's result (spf, dkim, dmarc, arc); null when authentication did not run. */
  readonly auth: Readonly<Record<'spf' | 'dkim' | 'dmarc' | 'arc', string>> | null;
  /** The recipients a routing rule took, and what it did with them (deliver, hold, drop). */
  readonly rules?: readonly { readonly recipient: string; readonly domain: string; readonly rule: string; readonly action: string }[];
}

/**
 * Stores the message durably and returns its queue id. Throwing an SmtpReplyError
 * chooses the reply; anything else is our failure: 451. `signal` aborts once the
 * client has been answered 451 for taking too long: nothing may be stored after it.
 */
export type Accept = (message: ReceivedMessage, signal: AbortSignal) => Promise<Accepted>;

type DataLimits = Pick<SessionLimits, 'maxMessageBytes' | 'maxHeaderBytes' | 'dataTimeoutMs' | 'dataMinRate' | 'dataReplyTimeoutMs'>;

/**
 * DATA, from the 354 to our reply: reads the message within its limits (size,
 * header size, the time budget of limits.ts), then hands it to `accept` with a
 * deadline for the reply. One log line per transaction.
 */
export function createDataStage(options: { limits: DataLimits; accept: Accept; logger: Logger; metrics: Metrics; tracing: Tracing }) {
  const { limits, logger, metrics } = options;

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
    metrics.bytesReceived.inc(collected.size);
    const span = options.tracing.start('smtp transaction', {
      kind: 'server',
      attributes: { 'client.address': session.remoteAddress, 'smtp.recipients': envelope.rcptTo.length, 'smtp.message.size': collected.size },
    });
    const refuse = (reply: SmtpReplyError, reason: string, err?: unknown): never => {
      metrics.smtpTransactions.inc({ class: replyClass(reply.responseCode) });
      metrics.messagesRejected.inc({ reason: rejectionReason(reason, reply.responseCode) });
      span.setAttributes({ 'smtp.reply.code': reply.responseCode });
      span.end(reason);
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
          traceparent: span.traceparent,
        },
        deadline.signal,
      );
      // Still running after a timeout reply: its outcome has no one to tell.
      accepting.catch(() => undefined);
      const accepted = await Promise.race([accepting, aborted(deadline.signal)]);
      const auth = accepted.auth && Object.entries(accepted.auth).map(([check, result]) => `${check}=${result}`).join(' ');
      const rules = accepted.rules?.length ? accepted.rules.map((r) => `${r.recipient} ${r.rule}:${r.action}`) : undefined;
      logger.info({ ...logged, code: 250, queueId: accepted.queueId, deliveryIds: accepted.deliveryIds, auth, rules }, 'message accepted');
      for (const r of accepted.rules ?? []) metrics.ruleActions.inc({ domain: r.domain, rule: r.rule, action: r.action });
      metrics.smtpTransactions.inc({ class: '2xx' });
      for (const domain of accepted.domains) metrics.messagesAccepted.inc({ domain });
      for (const [method, result] of Object.entries(accepted.auth ?? {})) metrics.authVerdicts.inc({ method, result });
      span.setAttributes({ 'smtp.reply.code': 250, 'mxpost.queue_id': accepted.queueId });
      span.end();
      return replies.queued(accepted.queueId);
    } catch (err) {
      if (deadline.signal.aborted) return refuse(replies.replyTimeout(), 'reply-timeout');
      return refuse(isSmtpReplyError(err) ? err : replies.localError(), isSmtpReplyError(err) ? 'refused' : (err as Error).message, err);
    } finally {
      clearTimeout(timer);
    }
  };
}

// The metric's reasons are a fixed list, whatever text a refusal carries.
function rejectionReason(reason: string, code: number): string {
  if (['too-big', 'header-too-big', 'reply-timeout'].includes(reason)) return reason;
  if (code >= 500) return reason === 'refused' ? 'policy' : 'refused';
  return 'temporary';
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
}
