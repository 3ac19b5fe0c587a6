import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Routes } from '../config/routes.ts';
import type { Logger } from '../observability/logger.ts';
import { resolveRecipient, type Target } from '../routing/resolve.ts';
import { collectMessage } from './collect.ts';
import { EnhancedCodeSMTPServer } from './enhanced-codes.ts';
import { isSmtpReplyError, replies } from './replies.ts';

/** A message whose DATA is complete, handed to whatever stores it. */
export interface ReceivedMessage {
  readonly raw: Buffer;
  readonly receivedAt: Date;
  readonly mailFrom: string;
  /** Accepted recipients, in RCPT order, each with the route it matched at RCPT time. */
  readonly targets: readonly Target[];
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly helo: string;
}

export interface ReceiverOptions {
  readonly host: string;
  readonly port: number;
  readonly hostname: string;
  readonly maxMessageBytes: number;
  /** After this, sessions still open at shutdown get 421. */
  readonly closeTimeoutMs: number;
  /** The routes in force; read at each RCPT so that a reload applies to the next one. */
  readonly routes: () => Routes;
  /**
   * Stores the message durably and returns its queue id. Throwing an
   * SmtpReplyError chooses the reply; anything else is our failure: 451.
   */
  readonly accept: (message: ReceivedMessage) => Promise<string>;
  readonly logger: Logger;
}

export interface Receiver {
  listen(): Promise<AddressInfo>;
  /** Stops accepting connections, lets sessions finish until the close timeout. Idempotent. */
  close(): Promise<void>;
}

// RFC 5321 4.5.3.1.8: a server must accept at least 100 recipients per message.
const MAX_RECIPIENTS = 100;

export function createReceiver(options: ReceiverOptions): Receiver {
  const { logger } = options;
  // The route each accepted recipient matched, decided once at RCPT: a routes
  // reload between RCPT and DATA must not move a recipient that was already accepted.
  const matched = new WeakMap<SMTPServerAddress, Target>();

  const server = new EnhancedCodeSMTPServer({
    name: options.hostname,
    banner: 'mxpost ESMTP',
    size: options.maxMessageBytes,
    maxRecipients: MAX_RECIPIENTS,
    // An MX takes mail from anyone for its own domains and relays for no one:
    // there is nothing to authenticate. STARTTLS arrives with certificate support.
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    closeTimeout: options.closeTimeoutMs,
    logger: false,

    onRcptTo(address, _session, callback) {
      const resolution = resolveRecipient(options.routes(), address.address);
      if (resolution.ok) {
        matched.set(address, resolution.target);
        return callback();
      }
      logger.info({ action: 'rcpt-rejected', rcpt: address.address, reason: resolution.reason }, 'recipient refused');
      callback(
        resolution.reason === 'unknown-domain'
          ? replies.unknownDomain()
          : resolution.reason === 'unknown-recipient'
            ? replies.unknownRecipient()
            : replies.invalidRecipient(),
      );
    },

    onData(stream, session, callback) {
      void receive(stream, session).then(
        (reply) => callback(null, reply),
        (err: unknown) => callback(err as Error),
      );
    },
  });

  async function receive(stream: NodeJS.ReadableStream & import('node:stream').Readable, session: SMTPServerSession): Promise<string> {
    const { raw, size, truncated } = await collectMessage(stream, options.maxMessageBytes);
    const envelope = session.envelope;
    const mailFrom = envelope.mailFrom === false ? '' : envelope.mailFrom.address;
    const targets = envelope.rcptTo.map((rcpt) => matched.get(rcpt)).filter((t): t is Target => t !== undefined);
    const base = {
      action: 'transaction',
      client: session.remoteAddress,
      helo: session.hostNameAppearsAs,
      mailFrom,
      rcptTo: envelope.rcptTo.map((r) => r.address),
      size,
    };
    if (truncated) {
      logger.info({ ...base, code: 552 }, 'message too big');
      throw replies.messageTooBig(options.maxMessageBytes);
    }
    try {
      if (targets.length !== envelope.rcptTo.length) throw new Error('a recipient has no route decided at RCPT');
      const queueId = await options.accept({
        raw,
        receivedAt: new Date(),
        mailFrom,
        targets,
        remoteAddress: session.remoteAddress,
        remotePort: session.remotePort,
        helo: session.hostNameAppearsAs,
      });
      logger.info({ ...base, code: 250, queueId }, 'message accepted');
      return replies.queued(queueId);
    } catch (err) {
      const reply = isSmtpReplyError(err) ? err : replies.localError();
      logger[reply.responseCode >= 500 ? 'info' : 'warn'](
        { ...base, code: reply.responseCode, err: isSmtpReplyError(err) ? undefined : err, cause: (err as Error).message },
        'message not accepted',
      );
      throw reply;
    }
  }

  server.on('error', (err) => logger.error({ err }, 'SMTP server error'));

  let closing: Promise<void> | null = null;
  return {
    async listen() {
      server.listen(options.port, options.host);
      await once(server.server, 'listening');
      return server.server.address() as AddressInfo;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server.server.listening) return resolve();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
