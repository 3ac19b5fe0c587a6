import type { Attachment as MailparserAttachment } from 'mailparser';
import type { Attachment } from './payload.ts';

/** What the document says about an attachment, before its route decides on the content. */
export type AttachmentMetadata = Omit<Extract<Attachment, { content: string }>, 'content'>;

/** An attachment as parsed: its metadata and its decoded bytes. */
export interface ParsedAttachment {
  readonly metadata: AttachmentMetadata;
  readonly content: Buffer;
}

/** The metadata and bytes of one attachment mailparser buffered. */
export function readAttachment(attachment: MailparserAttachment): ParsedAttachment {
  return {
    metadata: {
      filename: attachment.filename || null,
      contentType: attachment.contentType,
      size: attachment.size,
      contentId: attachment.cid || null,
      disposition: readDisposition(attachment),
      // parse.ts asks mailparser for sha256, so checksum is the hex SHA-256.
      sha256: attachment.checksum,
    },
    content: attachment.content,
  };
}

/**
 * RFC 2183 2.8: an unrecognised disposition is treated as `attachment`. Without
 * the header (RFC 2183 leaves it to the reader), a part with a Content-ID inside
 * multipart/related is an embedded image, shown inline as mail clients show it.
 */
function readDisposition(attachment: MailparserAttachment): Attachment['disposition'] {
  const disposition = attachment.contentDisposition?.trim().toLowerCase();
  if (disposition === undefined || disposition === '') return attachment.related && attachment.cid ? 'inline' : 'attachment';
  return disposition === 'inline' ? 'inline' : 'attachment';
}

/**
 * The attachments of one delivery. Their content is inlined, base64-encoded,
 * in MIME order, as long as the decoded bytes inlined so far and this
 * attachment's fit in `inlineLimit`; an attachment that does not fit keeps its
 * metadata and says why its content is missing, and a smaller one after it may
 * still fit.
 */
export function inlineAttachments(attachments: readonly ParsedAttachment[], inlineLimit: number): Attachment[] {
  let budget = inlineLimit;
  return attachments.map(({ metadata, content }) => {
    if (content.length > budget) return { ...metadata, contentOmitted: 'size-limit' as const };
    budget -= content.length;
    return { ...metadata, content: content.toString('base64') };
  });
}
