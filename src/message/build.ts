import type { PayloadOptions } from '../config/routes.ts';
import { normalizeDomain } from '../routing/domain.ts';
import type { DeliveryPlan } from '../routing/resolve.ts';
import type { ReceivedMessage } from '../smtp/receiver.ts';
import { inlineAttachments } from './attachments.ts';
import type { ParsedMessage } from './parse.ts';
import type { Attachment, EmailAddress, Payload } from './payload.ts';

/**
 * One payload per planned delivery. The parsed message is shared; what differs
 * between deliveries is the envelope's recipients (and so `bcc`), and what the
 * route asks for: attachment content up to its inline limit, and the raw MIME.
 * Strings that several deliveries carry (base64 content, the raw message) are
 * made once.
 */
export function buildPayloads(input: {
  queueId: string;
  received: ReceivedMessage;
  parsed: ParsedMessage;
  plans: readonly DeliveryPlan[];
  deliveryId: (queueId: string, index: number) => string;
}): { plan: DeliveryPlan; payload: Payload }[] {
  const { received, parsed } = input;
  const attachmentsByLimit = new Map<number, Attachment[]>();
  let raw: string | undefined;
  // Split so that the payload lists the fields in the schema's order.
  const { headers, headersByName, text, html, replyText, size, parseWarnings, ...addressing } = parsed.document;
  const headerRecipients = new Set([...parsed.document.to, ...parsed.document.cc].map((mailbox) => addressKey(mailbox.address)));

  return input.plans.map((plan, index) => {
    const first = plan.targets[0]!;
    const options: PayloadOptions = first.payload;
    let attachments = attachmentsByLimit.get(options.inlineLimit);
    if (attachments === undefined) {
      attachments = inlineAttachments(parsed.attachments, options.inlineLimit);
      attachmentsByLimit.set(options.inlineLimit, attachments);
    }
    // A message the parser could not read whole goes out with its raw MIME, so
    // that nothing the sender wrote is lost to a parser limit.
    if (options.raw || parsed.incomplete) raw ??= received.raw.toString('base64');
    const rcptTo = plan.targets.map((target) => target.recipient);
    const bcc: EmailAddress[] = rcptTo
      .filter((recipient) => !headerRecipients.has(addressKey(recipient)))
      .map((address) => ({ name: '', address }));
    const payload: Payload = {
      id: input.deliveryId(input.queueId, index),
      receivedAt: received.receivedAt.toISOString(),
      envelope: {
        mailFrom: received.mailFrom,
        rcptTo,
        remoteAddress: received.remoteAddress,
        remotePort: received.remotePort,
        helo: received.helo,
        tls: received.tls && { protocol: received.tls.protocol, cipher: received.tls.cipher },
        smtpUtf8: received.smtpUtf8,
        eightBitMime: received.eightBitMime,
      },
      route: { domain: plan.domain, recipient: first.recipient, tag: first.tag, ...(plan.rule ? { rule: plan.rule } : {}) },
      auth: null,
      message: {
        ...addressing,
        bcc,
        headers,
        headersByName,
        text,
        html,
        replyText,
        attachments,
        size,
        parseWarnings,
        ...(options.raw || parsed.incomplete ? { raw } : {}),
      },
    };
    return { plan, payload };
  });
}

/**
 * How an envelope recipient is matched against To and Cc: the local part
 * without case, the domain in its ASCII form (mailparser gives header domains
 * in Unicode, RCPT TO may carry either).
 */
function addressKey(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address.toLowerCase();
  const domain = address.slice(at + 1);
  return `${address.slice(0, at).toLowerCase()}@${normalizeDomain(domain) ?? domain.toLowerCase()}`;
}
