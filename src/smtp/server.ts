import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { replies, type SmtpReplyError } from './replies.ts';

// An enhanced status code at the start of a reply text, e.g. "5.1.1 ".
const LEADING_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

type Connection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/** What the session policy may do to one SMTP connection. */
export interface SessionHandle {
  readonly session: SMTPServerSession;
  /** Sends `reply` and closes the connection; a message being received is abandoned. */
  closeWith(reply: SmtpReplyError): void;
  /** True from MAIL FROM until the reply to DATA: a transaction would be lost by closing now. */
  inTransaction(): boolean;
  /** One more refused command; past the limit, the session ends with 421 4.7.0. */
  countError(): void;
  /** True once the connection is closing or closed (a 421 sent, QUIT, the client gone). */
  closing(): boolean;
}

/**
 * smtp-server, with the few changes mxpost needs in how each connection replies.
 * Everything that reaches into smtp-server's connection internals (`send`,
 * `close`, `_dataStream`, `_closing`, `_unrecognizedCommands`) is in this one
 * file; smtp-server is pinned to an exact version, and the hardening tests
 * (test/e2e/hardening-*.test.ts) fail if any of these stops working:
 *
 * - Enhanced codes: smtp-server derives a handler error's enhanced code from its
 *   basic code alone (550 always reads 5.1.1, 452 always 4.2.2), so an error
 *   cannot say "550 5.7.1" or "452 4.5.3". Our replies carry their enhanced code
 *   in the text (replies.ts); for those, smtp-server is told not to add its own.
 *   Replies smtp-server makes itself keep its codes.
 * - Errors: smtp-server disconnects after 10 unknown commands, counted per
 *   transaction, and counts nothing else. mxpost counts every protocol error
 *   (500-504) and refused recipient per session against MXPOST_MAX_ERRORS
 *   (Postfix's smtpd_hard_error_limit), and smtp-server's own count is reset so
 *   that ours decides.
 * - A handle per session (closeWith, inTransaction) for the limits that act on a
 *   connection from outside a command: the DATA deadline and shutdown.
 */
export class ReceiverSMTPServer extends SMTPServer {
  readonly #handles = new Map<string, SessionHandle>();
  readonly #maxErrors: number;

  constructor(options: SMTPServerOptions, policy: { maxErrors: number }) {
    super(options);
    this.#maxErrors = policy.maxErrors;
    const closed = this.onClose.bind(this);
    this.onClose = (session, callback) => {
      this.#handles.delete(session.id);
      closed(session, callback);
    };
  }

  override connect(socket: Socket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions);
    let added: Connection | undefined;
    // Set order is insertion order: the connection just made is the last one.
    for (const connection of this.connections) added = connection;
    if (added && !this.#handles.has(added.id)) this.#adopt(added);
  }

  /** The session's handle while its connection is open. */
  handle(session: SMTPServerSession): SessionHandle | undefined {
    return this.#handles.get(session.id);
  }

  /** The handles of the sessions still open and not already closing. */
  handles(): SessionHandle[] {
    return [...this.#handles.values()].filter((handle) => !handle.closing());
  }

  #adopt(connection: Connection): void {
    const send = connection.send.bind(connection);
    let errors = 0;
    const handle: SessionHandle = {
      session: connection.session,
      closeWith(reply) {
        const data = connection._dataStream;
        send(reply.responseCode, reply.message, false);
        // smtp-server closes the connection after every 421 it sends.
        if (reply.responseCode !== 421) connection.close();
        if (data && !data.destroyed) data.destroy(new Error(`session closed: ${reply.message}`));
      },
      inTransaction: () => Boolean(connection.session.envelope?.mailFrom) || Boolean(connection._dataStream),
      closing: () => connection._closing || connection._closed,
      countError: () => {
        errors++;
        if (errors >= this.#maxErrors && !handle.closing()) handle.closeWith(replies.tooManyErrors());
      },
    };
    connection.send = (code, data, context) => {
      send(code, data, typeof data === 'string' && LEADING_ENHANCED_CODE.test(data) ? false : context);
      if (code >= 500 && code <= 504) {
        connection._unrecognizedCommands = 0;
        handle.countError();
      }
    };
    this.#handles.set(connection.id, handle);
  }
}
