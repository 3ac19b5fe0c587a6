import { messageSchema } from './payload-schema.ts';
import type { Attachment, EmailAddress, MessageDocument, Payload } from './payload.ts';

/**
 * A message's payloads as they are kept in Redis: what every delivery of the
 * message shares is stored once, however many endpoints it goes to (a 25 MB
 * message to three routes costs 25 MB, not 75); each delivery's job holds only
 * what is its own. `joinPayload(shared, part)` gives back the payload exactly.
 */
export interface SharedMessage {
  /** The message fields every delivery has alike. */
  readonly message: Omit<MessageDocument, 'bcc' | 'attachments' | 'raw'>;
  /** Every attachment, with its content when at least one delivery inlines it. */
  readonly attachments: readonly Attachment[];
  /** The raw MIME (base64), when at least one delivery carries it. */
  readonly raw: string | null;
}

/** One delivery's own part: the payload without the shared message, and how to cut it. */
export interface DeliveryPart extends Omit<Payload, 'message'> {
  readonly bcc: readonly EmailAddress[];
  /** Indexes of the attachments whose content this delivery carries (its route's inline limit). */
  readonly inlined: readonly number[];
  readonly raw: boolean;
}

const MESSAGE_KEYS = Object.keys(messageSchema.shape) as (keyof MessageDocument)[];

export function splitPayloads(payloads: readonly Payload[]): { shared: SharedMessage; parts: DeliveryPart[] } {
  const first = payloads[0];
  if (!first) throw new Error('a message has at least one delivery');
  const { bcc: _bcc, attachments, raw: _raw, ...common } = first.message;
  const shared: SharedMessage = {
    message: common,
    attachments: attachments.map((attachment, index) => payloads.map((p) => p.message.attachments[index]!).find(hasContent) ?? attachment),
    raw: payloads.find((p) => p.message.raw !== undefined)?.message.raw ?? null,
  };
  const parts = payloads.map(({ message, ...rest }) => ({
    ...rest,
    bcc: message.bcc,
    inlined: message.attachments.flatMap((attachment, index) => (hasContent(attachment) ? [index] : [])),
    raw: message.raw !== undefined,
  }));
  return { shared, parts };
}

export function joinPayload(shared: SharedMessage, part: DeliveryPart): Payload {
  const { bcc, inlined, raw, ...rest } = part;
  const keep = new Set(inlined);
  const own: Partial<MessageDocument> = {
    bcc: [...bcc],
    attachments: shared.attachments.map((attachment, index) => {
      if (keep.has(index) || !hasContent(attachment)) return attachment;
      const { content: _content, ...metadata } = attachment;
      return { ...metadata, contentOmitted: 'size-limit' as const };
    }),
    ...(raw && shared.raw !== null ? { raw: shared.raw } : {}),
  };
  // In the schema's order, so that the JSON reads the same as a payload built whole.
  const message = Object.fromEntries(
    MESSAGE_KEYS.flatMap((key) => {
      const value = key in own ? own[key] : (shared.message as Partial<MessageDocument>)[key];
      return value === undefined ? [] : [[key, value]];
    }),
  ) as MessageDocument;
  const { id, receivedAt, envelope, route, auth } = rest;
  return { id, receivedAt, envelope, route, auth, message };
}

function hasContent(attachment: Attachment): attachment is Extract<Attachment, { content: string }> {
  return 'content' in attachment && typeof attachment.content === 'string';
}
