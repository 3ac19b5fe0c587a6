import { readFileSync } from 'node:fs';
import type { AttachmentMetadata } from '../../src/message/attachments.ts';
import { parseMessage, type ParsedDocument } from '../../src/message/parse.ts';

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
