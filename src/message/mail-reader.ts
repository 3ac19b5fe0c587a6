import type { SplitterChunk } from '@zone-eu/mailsplit';
import { MailParser } from 'mailparser';
import type { Attachment, AttachmentStream, HeaderLines, MailParserOptions, MessageText } from 'mailparser';

/** What the document is built from: mailparser's reading of a message, without what it does not use. */
export interface ReadMail {
  readonly headerLines: HeaderLines | undefined;
  readonly text: string | undefined;
  readonly html: string | undefined;
  readonly textConversionError: Error | undefined;
  /** In MIME order, each with its decoded bytes as `content`. */
  readonly attachments: Attachment[];
}

/**
 * Reads a message with mailparser's MailParser, as its simpleParser does with
 * `keepCidLinks` (cid: links stay as they are), but without building
 * `textAsHtml`, an HTML rendering of all the text that the document does not
 * carry. mailparser's own `skipTextToHtml` cannot be used: the same
 * conversion makes the `html` of a text part that stands beside an HTML part
 * outside multipart/alternative, and with it skipped, `html` gets an empty
 * segment there.
 *
 * `observe` sees every chunk of the parser's MIME splitter before the parser
 * reads it, so that one split of the message serves the parser and the
 * structure checks (structure.ts).
 */
export function readMail(raw: Buffer, options: MailParserOptions, observe?: (chunk: SplitterChunk) => void): Promise<ReadMail> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser(options);
    skipTextAsHtml(parser);
    if (observe) observeChunks(parser, observe);
    let headerLines: HeaderLines | undefined;
    let content: MessageText | undefined;
    const attachments: Attachment[] = [];
    // MailParser may emit a non-fatal 'error' and still reach 'end' (simpleParser
    // settles once too): the first error or the result wins.
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    parser.on('error', fail);
    parser.on('headers', () => {
      headerLines = parser.headerLines || undefined;
    });
    let reading = false;
    const read = (): void => {
      reading = true;
      const data = parser.read() as MessageText | AttachmentStream | null;
      if (data === null) {
        reading = false;
        return;
      }
      if (data.type === 'text') {
        content = data;
        return read();
      }
      // As simpleParser does: the attachment object itself gets its bytes as
      // `content` (its checksum and size are written onto it as the stream ends).
      const stream = data.content;
      const chunks: Buffer[] = [];
      let length = 0;
      attachments.push(data as unknown as Attachment);
      stream.on('readable', () => {
        let chunk: Buffer | null;
        while ((chunk = stream.read() as Buffer | null) !== null) {
          chunks.push(chunk);
          length += chunk.length;
        }
      });
      stream.on('end', () => {
        (data as unknown as Attachment).content = Buffer.concat(chunks, length);
        data.release?.();
        read();
      });
    };
    parser.on('readable', () => {
      if (!reading) read();
    });
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolve({
        headerLines,
        text: content?.text,
        html: typeof content?.html === 'string' ? content.html : undefined,
        textConversionError: content?.textConversionError,
        attachments,
      });
    });
    parser.end(raw);
  });
}

/**
 * mailparser converts text to HTML for `html` while it walks the parts, and then
 * once more for `textAsHtml`, which starts after it has set `parser.text`. From
 * then on the conversion is skipped. Pinned by the tests of a text part beside an
 * HTML part (test/message/parse.test.ts): an upgrade that changes the order shows there.
 */
function skipTextAsHtml(parser: MailParser): void {
  const toHtml = parser.textToHtml.bind(parser);
  parser.textToHtml = (text: string) => (parser.text === false ? toHtml(text) : '');
}

type ChunkReader = { processChunk?: (chunk: SplitterChunk, done: (err?: Error | null) => void) => void };

/**
 * MailParser hands each chunk its splitter yields to its `processChunk` method
 * (internal to mailparser, whose version is pinned), one at a time. Without
 * it, the message cannot be read as this module promises: that is an error,
 * which parse.ts reports like any parser failure.
 */
function observeChunks(parser: MailParser, observe: (chunk: SplitterChunk) => void): void {
  const reader = parser as unknown as ChunkReader;
  const process = reader.processChunk;
  if (typeof process !== 'function') throw new Error('this mailparser has no processChunk to observe (src/message/mail-reader.ts)');
  reader.processChunk = (chunk, done) => {
    observe(chunk);
    process.call(parser, chunk, done);
  };
}
