import { readFileSync } from 'node:fs';
import type { Routes } from '../../src/config/routes.ts';
import type { AttachmentMetadata } from '../../src/message/attachments.ts';
import { buildPayloads } from '../../src/message/build.ts';
import { parseMessage, type ParsedDocument } from '../../src/message/parse.ts';
import { planDeliveries, resolveRecipient } from '../../src/routing/resolve.ts';
import type { ReceivedMessage } from '../../src/smtp/receiver.ts';

/** A fixture message from test/fixtures/eml, as bytes. */
export const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/eml/${name}`, import.meta.url));

/** Test text with LF line breaks as a message with CRLF, as it arrives over SMTP. */
export const crlf = (text: string): Buffer => Buffer.from(text.replaceAll('\n', '\r\n'));

/** The parsed document with the attachments' metadata, as every delivery shares it. */
export async function parseDoc(raw: Buffer): Promise<ParsedDocument & { attachments: AttachmentMetadata[]; incomplete: boolean }> {
  const parsed = await parseMessage(raw);
  return { ...parsed.document, attachments: parsed.attachments.map((a) => a.metadata), incomplete: parsed.incomplete };
}

/** The document of a message that has none of the optional parts, for comparisons. */
export const EMPTY = {
  messageId: null, inReplyTo: null, references: [], date: null, subject: '', from: [], sender: null,
  replyTo: [], to: [], cc: [], headers: [], headersByName: {}, text: null, html: null, replyText: null,
  attachments: [], parseWarnings: [], incomplete: false,
};

/** The payloads the receiver would build for `raw` sent to `rcptTo`, one per planned delivery. */
export async function buildTestPayloads(routes: Routes, raw: Buffer, rcptTo: readonly string[], queueId = 'Q') {
  const targets = rcptTo.map((address) => {
    const r = resolveRecipient(routes, address);
    if (!r.ok) throw new Error(`${address} is not accepted: ${r.reason}`);
    return r.target;
  });
  const received: ReceivedMessage = {
    raw, receivedAt: new Date('2026-11-28T10:00:00Z'), mailFrom: 'a@sender.test', targets, remoteAddress: '192.0.2.1', remotePort: 1, helo: 'h',
    tls: null, smtpUtf8: false, eightBitMime: false,
  };
  return buildPayloads({ queueId, received, parsed: await parseMessage(raw), plans: planDeliveries(targets), deliveryId: (q, i) => `${q}-${i + 1}` });
}
