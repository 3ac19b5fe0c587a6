// Writes docs/payload.schema.json from the zod schema in src/message/payload-schema.ts.
// Run after changing the payload: node scripts/payload-schema.ts
// (test/message/payload-schema.test.ts fails while the committed file is stale.)
import { writeFileSync } from 'node:fs';
import { PAYLOAD_SCHEMA_PATH, payloadJsonSchemaText } from '../src/message/payload-schema.ts';

writeFileSync(PAYLOAD_SCHEMA_PATH, payloadJsonSchemaText());
process.stdout.write(`wrote ${PAYLOAD_SCHEMA_PATH.pathname}\n`);
