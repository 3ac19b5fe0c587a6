import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

// An enhanced status code at the start of a reply text, e.g. "5.1.1 ".
const LEADING_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * smtp-server derives the enhanced code of a handler's error from its basic code
 * alone (550 always reads 5.1.1, 452 always 4.2.2), so an error cannot say
 * "550 5.7.1" or "452 4.5.3". Our replies carry their enhanced code in the text
 * (replies.ts); for those, this connection-level wrapper tells smtp-server not to
 * add one of its own. Replies smtp-server makes itself keep its codes.
 */
export class EnhancedCodeSMTPServer extends SMTPServer {
  constructor(options: SMTPServerOptions) {
    super(options);
  }

  override connect(socket: Parameters<SMTPServer['connect']>[0], socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    const before = new Set(this.connections);
    super.connect(socket, socketOptions);
    for (const connection of this.connections) {
      if (before.has(connection)) continue;
      const target = connection as unknown as { send(code: number, data: unknown, context?: unknown): void };
      const send = target.send.bind(target);
      target.send = (code, data, context) =>
        send(code, data, typeof data === 'string' && LEADING_ENHANCED_CODE.test(data) ? false : context);
    }
  }
}
