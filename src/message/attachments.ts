import type { Attachment } from 'mailparser';
import type { AttachmentInfo } from './types.ts';

/**
 * The metadata of one attachment mailparser buffered. The content stays out:
 * it is added later, base64-encoded, only under the route's size limit.
 */
export function describeAttachment(attachment: Attachment): AttachmentInfo {
  return {
    filename: attachment.filename || null,
    contentType: attachment.contentType,
    size: attachment.size,
    contentId: attachment.cid || null,
    disposition: readDisposition(attachment.contentDisposition),
    // parse.ts asks mailparser for sha256, so checksum is the hex SHA-256.
    sha256: attachment.checksum,
  };
}

/**
 * RFC 2183 2.8: an unrecognised disposition is treated as `attachment`.
 * mailparser reports the header's own word, so that rule is applied here.
 */
function readDisposition(value: string | undefined): AttachmentInfo['disposition'] {
  const disposition = value?.trim().toLowerCase();
  if (disposition === undefined || disposition === '') return null;
  return disposition === 'inline' ? 'inline' : 'attachment';
}
