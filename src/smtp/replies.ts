/**
 * Every SMTP reply that mxpost decides, in one table: the basic code, the
 * enhanced code (RFC 3463) and the text. Our own failures are 4xx, so the
 * sender keeps the message and tries again; 5xx is only a verdict about the
 * recipient or the message.
 */
export class SmtpReplyError extends Error {
  override readonly name = 'SmtpReplyError';
  /** The basic reply code; smtp-server reads this field name. */
  readonly responseCode: number;
  readonly enhancedCode: string;
  constructor(responseCode: number, enhancedCode: string, text: string) {
    // The enhanced code leads the text, as RFC 2034 puts it on the wire; the
    // server wiring (server.ts) keeps smtp-server from adding its own.
    super(`${enhancedCode} ${text}`);
    this.responseCode = responseCode;
    this.enhancedCode = enhancedCode;
  }
}

export const replies = {
  /** 250 to DATA: every delivery of the message is stored. */
  queued: (queueId: string): string => `2.0.0 Ok: queued as ${queueId}`,

  invalidRecipient: () => new SmtpReplyError(553, '5.1.3', 'Recipient address rejected: not a valid mailbox address'),
  // Refused at RCPT, never accepted and bounced later: mxpost sends no mail, so
  // it cannot produce backscatter.
  unknownDomain: () => new SmtpReplyError(550, '5.1.1', 'Recipient address rejected: this server does not accept mail for that domain'),
  unknownRecipient: () => new SmtpReplyError(550, '5.1.1', 'Recipient address rejected: no such recipient here'),
  // The route's recipient callback (routing/callback.ts) failed or timed out: the
  // application could not say, so the sender tries again later.
  recipientUnverified: () => new SmtpReplyError(451, '4.3.0', 'Recipient address cannot be verified now, try again later'),
  // A signed reply address (routing/reply-address.ts) whose token is forged,
  // malformed or expired, on a route that requires valid ones. X.7.1: refused by policy.
  replyAddressRefused: (reason: string) => new SmtpReplyError(550, '5.7.1', `Recipient address rejected: reply address is ${replyText(reason)}`),

  messageTooBig: (limit: number) => new SmtpReplyError(552, '5.3.4', `Message size exceeds the limit of ${limit} bytes`),
  // MIME structure past the hard limits of message/limits.ts. RFC 3463 X.6.0
  // "other or undefined media error": the content, not the size, is the problem.
  messageRefused: (reason: string) => new SmtpReplyError(554, '5.6.0', `Message refused: ${replyText(reason)}`),

  // A routing rule's reject (routing/rules.ts), with the rule's code and text. A
  // text that starts with an enhanced code of the same class keeps it; else X.7.1.
  ruleRejected: (reply: { code: number; text: string }) => {
    const cls = String(reply.code)[0]!;
    const own = /^([245]\.\d{1,3}\.\d{1,3}) (.*)$/s.exec(reply.text);
    if (own && own[1]![0] === cls) return new SmtpReplyError(reply.code, own[1]!, replyText(own[2]!));
    return new SmtpReplyError(reply.code, `${cls}.7.1`, replyText(reply.text));
  },

  // Synchronous mode (routing/sync.ts): the endpoint refused the mail with a 4xx,
  // so the sender's server returns it to its author with the endpoint's words.
  endpointRefused: (text: string) => new SmtpReplyError(550, '5.7.1', `Message refused by the recipient's application: ${replyText(text.slice(0, 200))}`),
  // The endpoint failed (5xx), was busy or too slow: the sender keeps the message and retries.
  endpointUnavailable: () => new SmtpReplyError(451, '4.3.0', "The recipient's application is unavailable, try again later"),
  storageUnavailable: () => new SmtpReplyError(451, '4.3.0', 'Temporary failure storing the message, try again later'),
  localError: () => new SmtpReplyError(451, '4.3.0', 'Local error in processing, try again later'),

  // Session limits (docs/smtp.md). RFC 5321 4.5.3.1.10: 452 for one recipient too
  // many, so the client sends the rest in another transaction; RFC 3463 X.5.3.
  tooManyRecipients: (limit: number) => new SmtpReplyError(452, '4.5.3', `Too many recipients: at most ${limit} per message, send the rest in another`),
  headerTooBig: (limit: number) => new SmtpReplyError(552, '5.3.4', `Message header exceeds the limit of ${limit} bytes`),
  // 421 closes the connection (smtp-server does so for every 421 it sends). X.7.0:
  // a policy refusal that says nothing about the message, so the client retries later.
  tooManyConnections: () => new SmtpReplyError(421, '4.7.0', 'Too many connections, try again later'),
  tooManyConnectionsFromClient: () => new SmtpReplyError(421, '4.7.0', 'Too many connections from your address, try again later'),
  tooManyMessages: (limit: number) => new SmtpReplyError(421, '4.7.0', `At most ${limit} messages per connection, reconnect to send more`),
  tooManyErrors: () => new SmtpReplyError(421, '4.7.0', 'Too many errors, closing connection'),
  // PROXY protocol is on and the peer is not one of the trusted proxies.
  proxyRequired: () => new SmtpReplyError(421, '4.7.0', 'Connection refused: not through a trusted proxy'),
  // X.4.2 "bad connection": the client is too slow, not the message wrong.
  dataTooSlow: () => new SmtpReplyError(421, '4.4.2', 'Message not received in time, closing connection'),
  // Past MXPOST_DATA_REPLY_TIMEOUT_MS: answered before the client's own 10-minute
  // timeout (RFC 5321 4.5.3.2.6) so that it retries instead of guessing.
  replyTimeout: () => new SmtpReplyError(451, '4.3.0', 'Message not processed in time, try again later'),
  // RFC 3463 X.3.2 "System not accepting network messages": overload and shutdown.
  overloaded: () => new SmtpReplyError(451, '4.3.2', 'Too much mail waiting for delivery, try again later'),
  shuttingDown: () => new SmtpReplyError(421, '4.3.2', 'Server shutting down, try again later'),

  // A domain's auth policy refused the message (src/auth/policy.ts), at the end of
  // DATA. Enhanced codes: RFC 3463 X.7.1 for DMARC (what large receivers send),
  // RFC 7372 X.7.23 "SPF validation failed" and X.7.20 "No passing DKIM signature found".
  authRejected: (check: 'dmarc' | 'spf' | 'dkim', reason: string) =>
    new SmtpReplyError(550, check === 'spf' ? '5.7.23' : check === 'dkim' ? '5.7.20' : '5.7.1', `Message rejected: ${replyText(reason)}`),
  // A verdict the policy needs is unknown (DNS failed or was too slow): our
  // failure, never the sender's, so 4xx (RFC 7372 X.7.24 "SPF validation error").
  authDeferred: (check: 'dmarc' | 'spf' | 'dkim', reason: string) =>
    new SmtpReplyError(451, check === 'spf' ? '4.7.24' : '4.7.1', `Authentication incomplete, try again later: ${replyText(reason)}`),
} as const;

/**
 * Reply text that comes from outside (domains from the message, text from DNS):
 * printable ASCII only, so it can neither break the reply line (RFC 5321 section
 * 4.2) nor run past its 512-octet limit.
 */
function replyText(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return clean.length > 400 ? `${clean.slice(0, 397)}...` : clean;
}

/** A reply as one line on the wire, for the rare cases answered before smtp-server has the socket. */
export function replyLine(reply: SmtpReplyError): string {
  return `${reply.responseCode} ${reply.message}\r\n`;
}

/** Recognises a reply error by name, so that it survives crossing module boundaries. */
export function isSmtpReplyError(err: unknown): err is SmtpReplyError {
  return err instanceof Error && err.name === 'SmtpReplyError' && typeof (err as SmtpReplyError).responseCode === 'number';
}
