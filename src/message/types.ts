// The payload's types live in payload.ts, inferred from payload-schema.ts.
// This module keeps the older import path working for code that used it.
export type { Attachment, EmailAddress, HeaderField, MessageDocument, ParseWarning } from './payload.ts';
