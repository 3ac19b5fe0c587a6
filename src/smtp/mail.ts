import type { SMTPServerSession } from 'smtp-server';
import type { LoadVerdict } from './overload.ts';
import { replies, type SmtpReplyError } from './replies.ts';

/**
 * MAIL FROM: whether a new transaction may start. Checked in order of cost:
 * shutdown (421 4.3.2, then the connection closes), the per-connection message
 * limit (421 4.7.0: reconnect to send more), and the queue's load (451 4.3.2).
 * Every refusal here is temporary: the sender keeps the message.
 */
export function createMailPolicy(options: {
  draining: () => boolean;
  maxMessagesPerConnection: number;
  load: () => Promise<LoadVerdict>;
}) {
  // MAIL commands accepted per session, RSET or not: a client cannot reset its way
  // past the limit.
  const started = new WeakMap<SMTPServerSession, number>();
  return async function checkMailFrom(session: SMTPServerSession): Promise<SmtpReplyError | null> {
    if (options.draining()) return replies.shuttingDown();
    const count = (started.get(session) ?? 0) + 1;
    if (count > options.maxMessagesPerConnection) return replies.tooManyMessages(options.maxMessagesPerConnection);
    if ((await options.load()) !== 'ok') return replies.overloaded();
    started.set(session, count);
    return null;
  };
}
