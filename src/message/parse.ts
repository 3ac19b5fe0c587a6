import type { SplitterChunk } from '@zone-eu/mailsplit';
import type { MailParserOptions } from 'mailparser';
import { parseAddresses } from './addresses.ts';
import { readAttachment, type ParsedAttachment } from './attachments.ts';
import { readMail, type ReadMail } from './mail-reader.ts';
import { parseDate } from './date.ts';
import { decodeField, headersByName, rawValues, readRawFields } from './headers.ts';
import { firstMessageId, parseMessageIds } from './ids.ts';
import { MessageRefusedError, PARSER_LIMITS } from './limits.ts';
import type { MessageDocument, ParseWarning } from './payload.ts';
import { extractReply } from './reply.ts';
import { createStructureInspector, inspectStructure } from './structure.ts';

// cid: links stay in the HTML (readMail never inlines images as data: URLs,
// which would carry attachment bytes past the per-route content limit), and
// textAsHtml is not built (mail-reader.ts).
const PARSER_OPTIONS: MailParserOptions = {
  checksumAlgo: 'sha256',
  // Links are found only for HTML made from text; linkify-it is where crafted
  // text once backtracked for seconds.
  skipTextLinks: true,
  maxHtmlLengthToParse: PARSER_LIMITS.htmlToTextChars,
  maxChildNodes: PARSER_LIMITS.parts,
  maxHeadSize: PARSER_LIMITS.headBytes,
};

// When mailparser refuses the whole message, the top-level headers alone are
// parsed again, cut to this size. A quarter of maxHeadSize keeps ordinary lines
// from tripping it again; mailsplit counts every line as at least 64 bytes, so
// a block of tiny lines can still be refused, and the document is then empty.
const HEAD_RETRY_LIMIT = 256 * 1024;

/** The parts of the document that are the same for every delivery of the message. */
export type ParsedDocument = Omit<MessageDocument, 'bcc' | 'attachments' | 'raw'>;

export interface ParsedMessage {
  readonly document: ParsedDocument;
  /** Attachment metadata with the decoded bytes, which each delivery inlines up to its route's limit. */
  readonly attachments: readonly ParsedAttachment[];
  /** The parser hit a limit, so what it read is incomplete: every delivery carries the raw MIME. */
  readonly incomplete: boolean;
}

/**
 * Turns raw message bytes into the message document. Broken MIME never fails:
 * what can be read is returned with parseWarnings. Only a message over
 * HARD_LIMITS is refused, with a MessageRefusedError.
 */
export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  // One split of the message serves the parser and the structure checks.
  const inspector = createStructureInspector();
  let mail = await tryParse(raw, inspector.observe);
  let warnings: ParseWarning[];
  let incomplete = false;
  if (mail instanceof Error) {
    // mailparser stopped (a limit, or what it cannot read): the structure is
    // read again on its own, up to HARD_LIMITS, which decide between refusing
    // the message and delivering its top-level headers with the raw MIME.
    const structure = await inspectStructure(raw);
    if (structure.refusal !== null) throw new MessageRefusedError(structure.refusal);
    warnings = [...structure.warnings, { code: 'parser-limit', message: `${mail.message}: only the top-level headers were read; the raw MIME is attached` }];
    incomplete = true;
    const head = await tryParse(headBlock(raw));
    mail = head instanceof Error ? null : head;
  } else {
    // Under mailparser's limits, which are below HARD_LIMITS: nothing to refuse.
    warnings = inspector.finish();
  }
  let text = mail?.text ?? null;
  const html = mail?.html ?? null;
  let conversionError = mail?.textConversionError ?? null;
  // mailparser renders HTML as text only when the HTML is the whole message;
  // HTML beside attachments, with no text part, is rendered here by the same
  // code, given the HTML as a message of its own.
  if (text === null && html !== null && conversionError === null) {
    const rendered = await tryParse(Buffer.from(`Content-Type: text/html; charset=utf-8\r\n\r\n${html}`));
    if (rendered !== null && !(rendered instanceof Error)) {
      text = rendered.text ?? null;
      conversionError = rendered.textConversionError ?? null;
    }
  }
  if (conversionError !== null) {
    warnings.push({ code: 'html-not-converted', message: `${conversionError.message}: text holds only the text parts; the raw MIME is attached` });
    incomplete = true;
    if (text !== null && text.trim() === '') text = null;
  }
  const document = toDocument(mail, raw.length, text, html, warnings);
  return { document, attachments: (mail?.attachments ?? []).map(readAttachment), incomplete };
}

/** The parsed mail, null for no input, or the error mailparser gave up with. */
async function tryParse(raw: Buffer, observe?: (chunk: SplitterChunk) => void): Promise<ReadMail | Error | null> {
  if (raw.length === 0) return null;
  try {
    return await readMail(raw, PARSER_OPTIONS, observe);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
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

function toDocument(mail: ReadMail | null, size: number, text: string | null, html: string | null, warnings: ParseWarning[]): ParsedDocument {
  const fields = readRawFields(mail?.headerLines);
  const headers = fields.map(decodeField);
  // From, Sender, Reply-To, Subject and Date may appear once (RFC 5322 3.6);
  // when a message repeats one, the first is read, as mail clients show it.
  const firstOf = (name: string): string[] => rawValues(fields, name).slice(0, 1);
  const subject = headers.find((field) => field.name.toLowerCase() === 'subject');
  const [dateValue] = firstOf('Date');
  const date = dateValue === undefined ? null : parseDate(dateValue);
  if (dateValue !== undefined && date === null) {
    warnings.push({ code: 'invalid-date', message: `Date header is not a date: ${JSON.stringify(dateValue.slice(0, 80))}` });
  }
  const [sender] = parseAddresses(firstOf('Sender'));
  return {
    messageId: firstMessageId(rawValues(fields, 'Message-ID')),
    inReplyTo: firstMessageId(rawValues(fields, 'In-Reply-To')),
    references: rawValues(fields, 'References').flatMap((value) => parseMessageIds(value)),
    date,
    subject: subject?.value ?? '',
    from: parseAddresses(firstOf('From')),
    sender: sender ?? null,
    replyTo: parseAddresses(firstOf('Reply-To')),
    to: parseAddresses(rawValues(fields, 'To')),
    cc: parseAddresses(rawValues(fields, 'Cc')),
    headers,
    headersByName: headersByName(headers),
    text,
    html,
    replyText: text === null ? null : extractReply(text),
    size,
    parseWarnings: warnings,
  };
}
