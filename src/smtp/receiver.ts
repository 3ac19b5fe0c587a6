import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Routes } from '../config/routes.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Tracing } from '../observability/tracing.ts';
import { createRecipientCallbacks, type RecipientCallbacks } from '../routing/callback.ts';
import type { Target } from '../routing/resolve.ts';
import type { TrustedProxies } from './addresses.ts';
import { createDataStage, type Accept } from './data.ts';
import { ReceiverSMTPServer } from './server.ts';
import { ConnectionCounter, type SessionLimits } from './limits.ts';
import { createListener } from './listener.ts';
import { createMailPolicy } from './mail.ts';
import type { LoadVerdict } from './overload.ts';
import type { ProxyMode } from './proxy-protocol.ts';
import { confirmRecipient, decideRecipient } from './rcpt.ts';
import { replies } from './replies.ts';
import { loadTlsFiles, tlsDetails, TLS_MIN_VERSION, watchTlsFiles, type TlsDetails, type TlsFiles } from './tls.ts';

export type { Accept, Accepted, ReceivedMessage } from './data.ts';

export interface ReceiverOptions {
  readonly host: string;
  readonly port: number;
  readonly hostname: string;
  readonly limits: SessionLimits;
  /** STARTTLS certificate and key files, watched for changes; null: no STARTTLS. */
  readonly tls: TlsFiles | null;
  readonly proxy: { readonly mode: ProxyMode; readonly trusted: TrustedProxies };
  /** After this, sessions still open at shutdown get 421 4.3.2. */
  readonly closeTimeoutMs: number;
  /** The routes in force; read at the first RCPT of each transaction, so that a reload applies from the next one. */
  readonly routes: () => Routes;
  readonly accept: Accept;
  /** Asks routes' recipient callbacks, with its cache; default: a new one with the default address policy. */
  readonly recipientCallbacks?: RecipientCallbacks;
  /** Whether the queue can take more (overload.ts), asked at each MAIL FROM. */
  readonly load: () => Promise<LoadVerdict>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracing: Tracing;
}

export interface Receiver {
  listen(): Promise<AddressInfo>;
  /**
   * Stops listening, answers 421 4.3.2 to sessions between transactions and to any
   * new MAIL FROM, lets the transactions in progress finish until the close
   * timeout, then closes whatever is left with 421 4.3.2. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The SMTP receiver: smtp-server with mxpost's session policy. Each stage lives in
 * its own file (listener, mail, rcpt, data); docs/smtp.md is the operator's view.
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  const { logger, limits } = options;
  // The route each accepted recipient matched, decided once at RCPT: a routes
  // reload between RCPT and DATA must not move a recipient that was already accepted.
  const matched = new WeakMap<SMTPServerAddress, Target>();
  // The routes a transaction is decided by, taken at its first RCPT: a reload
  // part-way through must not route one recipient by the old file and the next
  // by the new one. smtp-server gives each transaction a new envelope object
  // (after DATA, RSET, EHLO), so the snapshot lasts exactly one transaction.
  const routesOf = new WeakMap<SMTPServerSession['envelope'], Routes>();
  // Set by onSecure, which smtp-server calls after it has forgotten everything
  // from before STARTTLS (RFC 3207 section 4.2), so this is never stale.
  const tlsOf = new WeakMap<SMTPServerSession, TlsDetails>();
  let draining = false;
  const certificate = options.tls ? loadTlsFiles(options.tls) : null;
  const checkMailFrom = createMailPolicy({ draining: () => draining, maxMessagesPerConnection: limits.maxMessagesPerConnection, load: options.load });
  const callbacks = options.recipientCallbacks ?? createRecipientCallbacks();
  const receive = createDataStage({ limits, accept: options.accept, logger, metrics: options.metrics, tracing: options.tracing });

  const server: ReceiverSMTPServer = new ReceiverSMTPServer(
    {
      name: options.hostname,
      banner: 'mxpost',
      // Advertised in EHLO; MAIL FROM … SIZE= over it gets 552 5.3.4 from smtp-server.
      size: limits.maxMessageBytes,
      // Advertise ENHANCEDSTATUSCODES, so that smtp-server's own replies (500, 501,
      // 503, its 421s) carry one too; ours carry theirs in the text.
      hideENHANCEDSTATUSCODES: false,
      // An MX takes mail from anyone for its own domains and relays for no one:
      // there is nothing to authenticate. XCLIENT and XFORWARD let a trusted MTA
      // speak for a client; the PROXY protocol does that here, so they are off.
      disabledCommands: ['AUTH', 'XCLIENT', 'XFORWARD', ...(certificate ? [] : ['STARTTLS'])],
      authOptional: true,
      ...(certificate ?? {}),
      minVersion: TLS_MIN_VERSION,
      // The client's host name is never used (SPF takes the IP and HELO), and the
      // lookup can hold the greeting for 1.5 s.
      disableReverseLookup: true,
      socketTimeout: limits.idleTimeoutMs,
      maxCommandLength: limits.maxCommandBytes,
      logger: false,

      onConnect(_session, callback) {
        options.metrics.smtpConnections.inc();
        callback();
      },

      onClose(session) {
        listener.closed(session.id);
      },

      onSecure(socket, session, callback) {
        tlsOf.set(session, tlsDetails(socket as TLSSocket));
        callback();
      },

      onMailFrom(_address, session, callback) {
        checkMailFrom(session).then(
          (refusal) => {
            if (refusal) logger.info({ action: 'mail-refused', client: session.remoteAddress, code: refusal.responseCode, reason: refusal.message }, 'transaction refused');
            callback(refusal);
          },
          (err: Error) => {
            logger.error({ err }, 'MAIL FROM check failed');
            callback(replies.localError());
          },
        );
      },

      onRcptTo(address, session, callback) {
        const answer = (decision: Awaited<ReturnType<typeof confirmRecipient>>) => {
          if (decision.ok) {
            matched.set(address, decision.target);
            return callback();
          }
          logger.info({ action: 'rcpt-rejected', client: session.remoteAddress, rcpt: address.address, reason: decision.reason }, 'recipient refused');
          options.metrics.messagesRejected.inc({ reason: decision.reason });
          callback(decision.reply);
          if (decision.countsAsError) server.handle(session)?.countError();
        };
        let routes = routesOf.get(session.envelope);
        if (!routes) routesOf.set(session.envelope, (routes = options.routes()));
        const decision = decideRecipient(routes, address, session, limits.maxRecipients);
        // Only a route with a recipient callback waits on the network here.
        if (!decision.ok || decision.target.callback === null) return answer(decision);
        confirmRecipient(decision, callbacks).then(answer, (err: Error) => {
          logger.error({ err }, 'recipient callback failed');
          callback(replies.localError());
        });
      },

      onData(stream, session, callback) {
        const context = {
          targets: session.envelope.rcptTo.map((rcpt) => matched.get(rcpt)),
          tls: tlsOf.get(session) ?? null,
          handle: server.handle(session),
        };
        receive(stream, session, context).then(
          (reply) => callback(null, reply),
          (err: Error) => callback(err),
        );
      },
    },
    { maxErrors: limits.maxErrors },
  );
  server.on('error', (err: Error & { code?: string }) => logger.info({ err: { message: err.message, code: err.code } }, 'SMTP connection error'));

  const listener = createListener({
    host: options.host,
    port: options.port,
    proxy: options.proxy,
    // A proxy sends its header at once; a client gets no longer than an idle one.
    proxyHeaderTimeoutMs: limits.idleTimeoutMs,
    counter: new ConnectionCounter(limits.maxConnections, limits.maxConnectionsPerClient),
    server,
    logger,
  });

  const watcher = options.tls
    ? watchTlsFiles(options.tls, {
        apply(pair) {
          server.updateSecureContext(pair);
          logger.info({ action: 'tls-reloaded', cert: options.tls!.certPath }, 'TLS certificate reloaded');
        },
        failed(err) {
          logger.warn({ action: 'tls-reload-failed', err: { message: err.message } }, 'TLS files changed but do not load; the certificate in force stays');
        },
      })
    : null;

  let closing: Promise<void> | null = null;
  async function drain(): Promise<void> {
    draining = true;
    listener.stop();
    watcher?.close();
    const deadline = Date.now() + options.closeTimeoutMs;
    // A session between transactions has nothing to finish: it is told at once,
    // and so is each one whose transaction has just ended.
    for (;;) {
      for (const handle of server.handles()) if (!handle.inTransaction()) handle.closeWith(replies.shuttingDown());
      if (server.handles().length === 0 || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const left = server.handles();
    if (left.length) logger.warn({ action: 'shutdown', sessions: left.length }, 'closing sessions still in a transaction at the shutdown deadline');
    for (const handle of left) handle.closeWith(replies.shuttingDown());
  }

  return {
    listen: () => listener.listen(),
    close() {
      closing ??= drain();
      return closing;
    },
  };
}
