import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

// Every payload a test endpoint receives is checked against the committed
// docs/payload.schema.json with a standard validator (ajv, draft 2020-12), so
// that whatever the suite delivers is what the schema promises.
const schema = JSON.parse(readFileSync(new URL('../../docs/payload.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(schema);

/** Why `payload` is not a valid mxpost payload; empty when it is. */
export function payloadProblems(payload: unknown): string[] {
  const problems = validate(payload) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  // base64 is an annotation in the schema (a pattern over megabytes overflows
  // the regex engine's stack), so it is checked here, in linear time.
  const message = (payload as { message?: { raw?: unknown; attachments?: { content?: unknown }[] } } | null)?.message;
  const encoded: [string, unknown][] = [['/message/raw', message?.raw]];
  (Array.isArray(message?.attachments) ? message.attachments : []).forEach((a, i) => encoded.push([`/message/attachments/${i}/content`, a?.content]));
  for (const [path, value] of encoded) {
    if (typeof value === 'string' && Buffer.from(value, 'base64').toString('base64') !== value) problems.push(`${path} is not canonical base64`);
  }
  return problems;
}
