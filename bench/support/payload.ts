import type { Payload } from '../../src/message/payload.ts';

/** A complete, schema-valid payload for benchmarks that enqueue without SMTP. */
export function benchPayload(id: string, subject: string, text: string): Payload {
  return {
    id,
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: 'a@sender.test', rcptTo: ['x@bench.test'], remoteAddress: '127.0.0.1', remotePort: 1, helo: 'h', tls: null, smtpUtf8: false, eightBitMime: false },
    route: { domain: 'bench.test', recipient: 'x@bench.test', tag: null },
    auth: null,
    message: {
      messageId: `${id}@sender.test`, inReplyTo: null, references: [], date: null, subject,
      from: [{ name: '', address: 'a@sender.test' }], sender: null, replyTo: [], to: [{ name: '', address: 'x@bench.test' }], cc: [], bcc: [],
      headers: [{ name: 'Subject', value: subject }], headersByName: { subject: [subject] },
      text, html: null, replyText: text, attachments: [], size: text.length, parseWarnings: [],
    },
  };
}
