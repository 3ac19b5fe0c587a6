import type { MessageDocument } from '../message/types.ts';

/**
 * The message's own HTML, served on its own URL into an iframe with `sandbox`
 * (no scripts, no forms, no popups, an opaque origin) and, in case the URL is
 * opened directly, the same sandbox and a policy that loads nothing from the
 * network: remote images, fonts and stylesheets, tracking pixels included,
 * never load. Inline styles and data: images (inline parts) still show.
 */
export const FRAME_CSP = [
  'sandbox',
  "default-src 'none'",
  'img-src data: cid:',
  "style-src 'unsafe-inline'",
  'font-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

// Inline images travel as data: URIs only while they are small; a page of
// megabytes is not worth showing in a frame.
const INLINE_IMAGE_BYTES = 2 * 1024 * 1024;

/** The HTML body, with `cid:` references to inline parts whose content the payload carries turned into data: URIs. */
export function frameDocument(message: MessageDocument): string {
  let body = message.html ?? '';
  for (const a of message.attachments) {
    const content = 'content' in a ? a.content : null;
    if (!a.contentId || !content || a.size > INLINE_IMAGE_BYTES || !a.contentType.startsWith('image/')) continue;
    const escaped = a.contentId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    body = body.replace(new RegExp(`cid:${escaped}(?=["')\\s>])`, 'gi'), `data:${a.contentType.split(';')[0]};base64,${content}`);
  }
  return body;
}
