import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PAYLOAD_SCHEMA_PATH, payloadJsonSchemaText } from '../../src/message/payload-schema.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { payloadProblems } from '../support/payload-validation.ts';

test('the committed docs/payload.schema.json is the one the zod schema generates (run: node scripts/payload-schema.ts)', () => {
  assert.equal(readFileSync(PAYLOAD_SCHEMA_PATH, 'utf8'), payloadJsonSchemaText());
});

test('the published schema is JSON Schema draft 2020-12', () => {
  assert.equal(JSON.parse(payloadJsonSchemaText()).$schema, 'https://json-schema.org/draft/2020-12/schema');
});

/** A minimal valid payload, to break one field at a time. */
function payload() {
  return {
    id: 'Q1-1',
    receivedAt: '2024-03-05T09:14:30.000Z',
    envelope: { mailFrom: '', rcptTo: ['a@example.test'], remoteAddress: '192.0.2.1', remotePort: 25, helo: 'h', tls: null, smtpUtf8: false, eightBitMime: false },
    route: { domain: 'example.test', recipient: 'a@example.test', tag: null },
    auth: null,
    message: {
      messageId: null, inReplyTo: null, references: [], date: null, subject: '', from: [], sender: null, replyTo: [], to: [], cc: [], bcc: [],
      headers: [], headersByName: {}, text: null, html: null, replyText: null, size: 0, parseWarnings: [],
      attachments: [{ filename: null, contentType: 'application/octet-stream', size: 3, contentId: null, disposition: 'attachment', sha256: 'a'.repeat(64), content: 'AAEC' }],
    },
  };
}

test('accepts a well-formed payload', () => {
  assert.deepEqual(payloadProblems(payload()), []);
});

const broken: Record<string, (p: ReturnType<typeof payload>) => void> = {
  'an undocumented field': (p) => Object.assign(p.message, { spam: true }),
  'a missing field': (p) => delete (p.message as Partial<typeof p.message>).replyText,
  'an attachment with both content and contentOmitted': (p) => Object.assign(p.message.attachments[0]!, { contentOmitted: 'size-limit' }),
  'an attachment with neither content nor contentOmitted': (p) => delete (p.message.attachments[0] as { content?: string }).content,
  'a date that is not ISO 8601': (p) => Object.assign(p, { receivedAt: 'Tue, 5 Mar 2024 09:14:30 +0000' }),
  'attachment content that is not base64': (p) => Object.assign(p.message.attachments[0]!, { content: 'not base64!' }),
  'an unknown warning code': (p) => p.message.parseWarnings.push({ code: 'oops', message: 'x' } as never),
};
for (const [name, breakIt] of Object.entries(broken)) {
  test(`rejects a payload with ${name}`, () => {
    const p = payload();
    breakIt(p);
    assert.notDeepEqual(payloadProblems(p), []);
  });
}

test('the test endpoint reports every payload that does not match the schema', async () => {
  const reported: string[][] = [];
  const endpoint = await startEndpoint([], { onInvalidPayload: (problems) => reported.push(problems) });
  try {
    const post = (body: unknown) => fetch(endpoint.url(), { method: 'POST', body: JSON.stringify(body) });
    await post(payload());
    await post({ ...payload(), id: 7 });
    assert.equal(reported.length, 1);
    assert.match(reported[0]!.join(), /\/id must be string/);
  } finally {
    await endpoint.close();
  }
});
