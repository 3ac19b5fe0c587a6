import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { startEndpoint, type ReceivedRequest } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';
import { CORPUS } from './corpus-cases.ts';
import { fixture } from './support.ts';

// Every message of test/fixtures/eml goes through the whole service (a real SMTP
// client, the receiver, Redis, the worker, a real HTTP endpoint), and the
// payload that arrives is compared field by field with what the message says.
// The endpoint validates each payload against docs/payload.schema.json.
describe('the fixture corpus, delivered end to end', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;
  let transport: ReturnType<typeof nodemailer.createTransport>;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    mxpost = await startMxpost({
      redisUrl: redis.url,
      routes: `
domains:
  inbound.example:
    url: ${endpoint.url('/inbound')}
    recipients: ["*"]
    raw: true
    attachments: { inlineLimit: 1MiB }
`,
    });
    transport = nodemailer.createTransport({ host: '127.0.0.1', port: mxpost.smtpPort, secure: false, ignoreTLS: true });
  });

  after(async () => {
    transport?.close();
    await mxpost?.close();
    await endpoint?.close();
    await redis?.dispose();
  });

  /** Sends a fixture as it is, byte for byte, to a recipient tagged with its name; returns its delivery. */
  async function deliver(file: string, mailFrom: string, tag = file.replace(/\.eml$/, '')): Promise<{ request: ReceivedRequest; rcpt: string }> {
    const rcpt = `corpus+${tag}@inbound.example`;
    // nodemailer's envelope takes use8BitMime; its types do not list it.
    const eightBit = /[\x80-\xff]/.test(fixture(file).toString('latin1'));
    await transport.sendMail({ envelope: { from: mailFrom, to: [rcpt], use8BitMime: eightBit } as never, raw: fixture(file) });
    let request: ReceivedRequest | undefined;
    await waitUntil(() => (request = endpoint.requests.find((r) => r.json?.route?.tag === tag)) !== undefined);
    return { request: request!, rcpt };
  }

  for (const expected of CORPUS) {
    test(`delivers ${expected.file} with every field as the message has it`, async () => {
      const { request, rcpt } = await deliver(expected.file, expected.mailFrom);
      const raw = fixture(expected.file);
      const { envelope, route, message } = request.json;
      assert.deepEqual({ mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo }, { mailFrom: expected.mailFrom, rcptTo: [rcpt] });
      assert.deepEqual(route, { domain: 'inbound.example', recipient: rcpt, tag: expected.file.replace(/\.eml$/, '') });
      for (const [field, value] of Object.entries(expected.message)) assert.deepEqual(message[field], value, `message.${field}`);
      // The tagged recipient is named in no To or Cc: it got the message as a blind copy.
      assert.deepEqual(message.bcc, [{ name: '', address: rcpt }]);
      assert.equal(message.size, raw.length);
      assert.deepEqual(Buffer.from(message.raw, 'base64'), raw, 'raw is the message exactly as sent');
      assert.deepEqual(
        message.parseWarnings.map((w: { code: string }) => w.code),
        expected.warnings ?? [],
      );
      if (expected.attachments !== 'any') {
        const attachments = (expected.attachments ?? []).map(({ content, ...metadata }) => ({
          contentId: null,
          ...metadata,
          size: content.length,
          sha256: createHash('sha256').update(content).digest('hex'),
          content: content.toString('base64'),
        }));
        assert.deepEqual(message.attachments, attachments);
      }
    });
  }

  test('marks a message sent with SMTPUTF8 and BODY=8BITMIME in the envelope, and one sent without as neither', async () => {
    const utf8 = (await deliver('smtputf8.eml', 'jörg@bücher.example', 'flags-utf8')).request.json.envelope;
    assert.deepEqual([utf8.smtpUtf8, utf8.eightBitMime, utf8.tls], [true, true, null]);
    const ascii = (await deliver('plain.eml', 'alice@example.org', 'flags-ascii')).request.json.envelope;
    assert.deepEqual([ascii.smtpUtf8, ascii.eightBitMime], [false, false]);
  });
});
