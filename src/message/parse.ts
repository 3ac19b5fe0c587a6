import { simpleParser } from 'mailparser';
import type { ParsedMail, SimpleParserOptions } from 'mailparser';
import { parseAddresses } from './addresses.ts';
import { describeAttachment } from './attachments.ts';
import { parseDate } from './date.ts';
import { decodeField, rawValues, readRawFields } from './headers.ts';
import { firstMessageId, parseMessageIds } from './ids.ts';
import type { MessageDocument } from './types.ts';

const PARSER_OPTIONS: SimpleParserOptions = {
  checksumAlgo: 'sha256',
  // Left alone, simpleParser inlines every cid: image into the HTML as a data:
  // URL, which would carry attachment bytes past the per-route content limit.
  keepCidLinks: true,
  // skipTextToHtml would save building textAsHtml, which the document does not
  // carry, but it also leaves a stray '<br/>' in html wherever a text part sits
  // beside an HTML part outside multipart/alternative.
};

// When mailparser refuses the whole message (a header block over its 1 MiB
// maxHeadSize, more than 1000 MIME parts), the top-level headers alone are
// parsed again, cut to this size. Real header blocks are a few KiB. A quarter
// of maxHeadSize keeps ordinary lines from tripping it again; mailsplit counts
// every line as at least 64 bytes, so a block of tiny lines can still be
// refused, and the document is then empty.
const HEAD_RETRY_LIMIT = 256 * 1024;

/**
 * Turns raw message bytes into the `message` part of the webhook payload.
 * Never rejects: whatever cannot be read is left empty, and a message that
 * mailparser refuses outright still yields its top-level headers when it can.
 */
export async function parseMessage(raw: Buffer): Promise<MessageDocument> {
  const mail = (await tryParse(raw)) ?? (await tryParse(headBlock(raw)));
  return toDocument(mail, raw.length);
}

async function tryParse(raw: Buffer): Promise<ParsedMail | null> {
  if (raw.length === 0) return null;
  try {
    return await simpleParser(raw, PARSER_OPTIONS);
  } catch {
    return null;
  }
}

/** The top-level header block, cut at a line break to at most HEAD_RETRY_LIMIT bytes. */
function headBlock(raw: Buffer): Buffer {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((index) => index >= 0);
  let end = ends.length > 0 ? Math.min(...ends) : raw.length;
  if (end > HEAD_RETRY_LIMIT) end = raw.lastIndexOf('\n', HEAD_RETRY_LIMIT);
  // No line break within the limit: not even one header fits, so parse nothing.
  return end < 0 ? Buffer.alloc(0) : raw.subarray(0, end);
}

function toDocument(mail: ParsedMail | null, size: number): MessageDocument {
  const fields = readRawFields(mail?.headerLines);
  const headers = fields.map(decodeField);
  // From, Sender, Reply-To, Subject and Date may appear once (RFC 5322 3.6);
  // when a message repeats one, the first is read, as mail clients show it.
  const firstOf = (name: string): string[] => rawValues(fields, name).slice(0, 1);
  const subject = headers.find((field) => field.name.toLowerCase() === 'subject');
  const [date] = firstOf('Date');
  const [sender] = parseAddresses(firstOf('Sender'));
  return {
    messageId: firstMessageId(rawValues(fields, 'Message-ID')),
    inReplyTo: firstMessageId(rawValues(fields, 'In-Reply-To')),
    references: rawValues(fields, 'References').flatMap((value) => parseMessageIds(value)),
    date: date === undefined ? null : parseDate(date),
    subject: subject?.value ?? '',
    from: parseAddresses(firstOf('From')),
    sender: sender ?? null,
    replyTo: parseAddresses(firstOf('Reply-To')),
    to: parseAddresses(rawValues(fields, 'To')),
    cc: parseAddresses(rawValues(fields, 'Cc')),
    headers,
    text: mail?.text ?? null,
    html: typeof mail?.html === 'string' ? mail.html : null,
    attachments: (mail?.attachments ?? []).map(describeAttachment),
    size,
  };
}
