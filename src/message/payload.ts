import type { z } from 'zod';
import type {
  attachmentSchema,
  emailAddressSchema,
  envelopeSchema,
  headerFieldSchema,
  messageSchema,
  parseWarningSchema,
  payloadSchema,
  routeMatchSchema,
  tlsSchema,
} from './payload-schema.ts';

// The exported types of the payload, inferred from the schemas in
// payload-schema.ts: one definition serves the code, the JSON Schema and the docs.

/** The JSON document POSTed for one delivery (docs/payload.md). */
export type Payload = z.output<typeof payloadSchema>;
export type Envelope = z.output<typeof envelopeSchema>;
export type Tls = z.output<typeof tlsSchema>;
export type RouteMatch = z.output<typeof routeMatchSchema>;
export type MessageDocument = z.output<typeof messageSchema>;
export type EmailAddress = z.output<typeof emailAddressSchema>;
export type HeaderField = z.output<typeof headerFieldSchema>;
export type Attachment = z.output<typeof attachmentSchema>;
export type ParseWarning = z.output<typeof parseWarningSchema>;
export type ParseWarningCode = ParseWarning['code'];
