import { z } from 'zod';
import { authSchema } from '../auth/schema.ts';

// The one source of truth for the webhook payload. The TypeScript types
// (payload.ts) are inferred from these schemas, and docs/payload.schema.json is
// generated from them (scripts/payload-schema.ts; a test fails when the committed
// file is stale). Descriptions here become the JSON Schema's descriptions, so
// they are written for the application author. docs/payload.md explains each
// field with examples and its Mailgun, Postmark and SendGrid counterparts.
//
// The contract grows only by adding fields. Objects are closed
// (additionalProperties: false) so that the test suite catches a field that is
// sent but not documented; an application that validates with this schema
// should take the version that matches the mxpost it runs.

export const emailAddressSchema = z
  .object({
    name: z.string().describe('Display name, RFC 2047 encoded-words decoded; "" when the header gave none.'),
    address: z.string().describe('The address as written, with an internationalised domain in Unicode; "" when the entry had none.'),
  })
  .meta({ id: 'EmailAddress', description: 'One mailbox of an address header; groups are flattened into their members.' });

export const headerFieldSchema = z
  .object({
    name: z.string().describe('The field name as written (case kept).'),
    value: z.string().describe('The value unfolded and RFC 2047-decoded, surrounding whitespace trimmed.'),
  })
  .meta({ id: 'HeaderField', description: 'One header field of the top-level part.' });

const attachmentMetadata = {
  filename: z.string().nullable().describe('Decoded file name (RFC 2047 and RFC 2231); null when the part names none.'),
  contentType: z.string().describe('Lower-case media type without parameters, e.g. "application/pdf", "message/rfc822", "text/calendar".'),
  size: z.number().int().min(0).describe('Decoded size in bytes.'),
  contentId: z.string().nullable().describe('Content-ID without angle brackets, matching `cid:` links in `html`; null when absent.'),
  disposition: z
    .enum(['inline', 'attachment'])
    .describe('"inline" when the part says so, or when it has no Content-Disposition but is a multipart/related part with a Content-ID (an embedded image); otherwise "attachment".'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('Hex SHA-256 of the decoded content.'),
};

export const attachmentSchema = z
  .union([
    z
      .object({
        ...attachmentMetadata,
        content: z.base64().describe('The decoded content, base64-encoded.'),
      })
      .meta({ title: 'Attachment with content' }),
    z
      .object({
        ...attachmentMetadata,
        contentOmitted: z
          .enum(['size-limit'])
          .describe('Why `content` is absent. "size-limit": the route\'s inline limit (attachments.inlineLimit) was spent before this attachment.'),
      })
      .meta({ title: 'Attachment without content' }),
  ])
  .meta({
    id: 'Attachment',
    description: 'One attachment or inline part. It carries either `content` or `contentOmitted`, never both.',
  });

export const parseWarningSchema = z
  .object({
    code: z
      .enum([
        'unclosed-multipart',
        'missing-boundary',
        'invalid-base64',
        'invalid-header-line',
        'unknown-charset',
        'invalid-date',
        'parser-limit',
        'html-not-converted',
      ])
      .describe('What was wrong; docs/payload.md lists each code and what the document then holds.'),
    message: z.string().describe('The same in words, for logs and people.'),
  })
  .meta({ id: 'ParseWarning', description: 'Something in the MIME that was broken or over a parser limit; the document is the best reading of it.' });

const nullableAddress = emailAddressSchema.nullable();
const addressList = z.array(emailAddressSchema);

export const messageSchema = z
  .object({
    messageId: z.string().nullable().describe('Message-ID without angle brackets; null when absent.'),
    inReplyTo: z.string().nullable().describe('The first msg-id of In-Reply-To, without angle brackets; null when absent.'),
    references: z.array(z.string()).describe('The msg-ids of References, in order, without angle brackets.'),
    date: z.iso.datetime().nullable().describe('The Date header as ISO 8601 UTC; null when absent or not a date.'),
    subject: z.string().describe('Decoded Subject; "" when absent.'),
    from: addressList.describe('From: usually one mailbox; RFC 5322 allows several.'),
    sender: nullableAddress.describe('Sender, when the message has one.'),
    replyTo: addressList.describe('Reply-To.'),
    to: addressList.describe('To, from every To field in order.'),
    cc: addressList.describe('Cc, from every Cc field in order.'),
    bcc: addressList.describe(
      "This delivery's envelope recipients that To and Cc do not name: the message reached them as a blind copy or by forwarding. Names are \"\".",
    ),
    headers: z.array(headerFieldSchema).describe('Every header field of the top-level part, in order, repeats included.'),
    headersByName: z
      .record(z.string(), z.array(z.string()))
      .describe('The same fields by lower-case name, each with its values in order: headersByName["received"][0] is the topmost Received.'),
    text: z.string().nullable().describe('The text/plain body; when there is none, a plain-text rendering of the HTML; null when neither exists.'),
    html: z.string().nullable().describe('The text/html body, cid: links kept as they are; null when there is none.'),
    replyText: z
      .string()
      .nullable()
      .describe('Only what the sender newly wrote: `text` without the quoted history, forwarded content or signature block; null when `text` is null.'),
    attachments: z.array(attachmentSchema).describe('Attachments and inline parts, in MIME order.'),
    size: z.number().int().min(0).describe('Size of the message as received, in bytes.'),
    parseWarnings: z.array(parseWarningSchema).describe('Empty for well-formed mail.'),
    raw: z
      .base64()
      .optional()
      .describe('The message exactly as received, base64-encoded. Present when the route sets `raw: true`, and always when the parser hit one of its limits (parseWarnings says which).'),
  })
  .meta({ id: 'Message', description: 'The message itself, decoded.' });

export const tlsSchema = z
  .object({
    protocol: z.string().describe('e.g. "TLSv1.3".'),
    cipher: z.string().describe('IANA cipher suite name, e.g. "TLS_AES_256_GCM_SHA384".'),
  })
  .meta({ id: 'Tls', description: 'The TLS session the message arrived over.' });

export const envelopeSchema = z
  .object({
    mailFrom: z.string().describe('MAIL FROM (the return path); "" for the null sender of bounces.'),
    rcptTo: z.array(z.string()).describe("The RCPT TO addresses this delivery carries, as the client gave them; other routes' recipients are not here."),
    remoteAddress: z.string().describe('IP address of the SMTP client.'),
    remotePort: z.number().int().min(0).max(65535).describe('TCP port of the SMTP client.'),
    helo: z.string().describe('The name the client gave in HELO/EHLO.'),
    tls: tlsSchema.nullable().describe('null when the session was not encrypted.'),
    smtpUtf8: z.boolean().describe('MAIL FROM carried SMTPUTF8 (RFC 6531): addresses and headers may be UTF-8.'),
    eightBitMime: z.boolean().describe('MAIL FROM carried BODY=8BITMIME (RFC 6152).'),
  })
  .meta({ id: 'Envelope', description: 'The SMTP transaction.' });

export const routeMatchSchema = z
  .object({
    domain: z.string().describe('The routes-file domain that matched, ASCII (xn--) form.'),
    recipient: z.string().describe('The first recipient of this delivery, as given in RCPT TO.'),
    tag: z.string().nullable().describe('Its sub-address: support+4821@ gives "4821"; null without one.'),
    replyToken: z
      .object({
        valid: z.boolean().describe('The token was signed with one of the route\'s secrets and has not expired.'),
        id: z.string().nullable().describe('The application id the token carries; null when forged or malformed.'),
        expiresAt: z.iso.datetime().nullable().describe('When the token expires; null when it never does or could not be read.'),
        reason: z.enum(['malformed', 'forged', 'expired']).nullable().describe('Why it is not valid; null when it is.'),
      })
      .optional()
      .describe('Present when the recipient is a signed reply address of a route with replyTokens (docs/routing.md).'),
    rule: z
      .object({
        name: z.string().describe("The rule's name in the routes file."),
        captures: z.record(z.string(), z.string()).describe('What the named groups of its regular expressions captured ("" for a group that did not take part).'),
      })
      .optional()
      .describe('Present when a routing rule sent the message here (docs/routing.md).'),
  })
  .meta({ id: 'Route', description: 'Which route took the message.' });

export const payloadSchema = z
  .object({
    id: z.string().describe('The delivery id: the same on every retry and in the webhook-id header, for de-duplication.'),
    receivedAt: z.iso.datetime().describe('When mxpost accepted the message (ISO 8601, UTC).'),
    envelope: envelopeSchema,
    route: routeMatchSchema,
    auth: authSchema
      .nullable()
      .describe('SPF, DKIM, DMARC and ARC verdicts (docs/auth.md); null when authentication did not run.'),
    message: messageSchema,
  })
  .meta({ title: 'mxpost webhook payload', description: 'The JSON document POSTed for one delivery of one message to one endpoint.' });

/** The published JSON Schema (draft 2020-12) of the payload. */
export function payloadJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(payloadSchema, {
    target: 'draft-2020-12',
    io: 'output',
    override({ jsonSchema }) {
      // zod spells these formats out as regular expressions as well. A validator
      // runs the base64 one over a whole attachment, and V8's backtracking
      // overflows its stack on a few MB, so base64 stays an annotation
      // (contentEncoding; "base64" is no standard format) and date-time is
      // checked by its standard format alone.
      if (jsonSchema.format === 'base64') {
        delete jsonSchema.format;
        delete jsonSchema.pattern;
      }
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
}

/** Where the schema is published in the repository. */
export const PAYLOAD_SCHEMA_PATH = new URL('../../docs/payload.schema.json', import.meta.url);

/** The published file's text: the schema, two-space indented, with a final newline. */
export function payloadJsonSchemaText(): string {
  return `${JSON.stringify(payloadJsonSchema(), null, 2)}\n`;
}
