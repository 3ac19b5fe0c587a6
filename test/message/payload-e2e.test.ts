import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HARD_LIMITS } from '../../src/message/limits.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';

// The payload's route options and parser limits, through the whole service.
describe('payload options and parser limits, end to end', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    mxpost = await startMxpost({
      redisUrl: redis.url,
      routes: `
domains:
  archive.test:
    url: ${endpoint.url('/archive')}
    recipients: ["*"]
    raw: true
  app.test:
    url: ${endpoint.url('/app')}
    recipients: ["*"]
    attachments: { inlineLimit: 1KiB }
`,
    });
  });

  after(async () => {
    await mxpost?.close();
    await endpoint?.close();
    await redis?.dispose();
  });

  const delivered = (subject: string) => endpoint.requests.filter((r) => r.json?.message?.subject === subject);

  function multipart(subject: string, parts: string[]): string {
    return [`From: sender@example.org`, `To: list@archive.test`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '', ...parts.map((p) => `--b\r\n${p}`), '--b--', ''].join('\r\n');
  }

  test('gives each route of one transaction its own attachments, raw MIME and bcc', async () => {
    const big = Buffer.alloc(2048, 7).toString('base64');
    const message = multipart('two routes', [
      'Content-Type: text/plain\r\n\r\nsee attached',
      `Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${big}`,
    ]);
    const result = await sendMail(mxpost.smtpPort, { from: 'sender@example.org', to: ['list@archive.test', 'hook@app.test'], message });
    assert.equal(result.data?.code, 250);
    await waitUntil(() => delivered('two routes').length === 2);
    const [archive, app] = ['/archive', '/app'].map((path) => delivered('two routes').find((r) => r.path === path)!.json.message);
    assert.equal(Buffer.from(archive.raw, 'base64').toString(), message);
    assert.equal(app.raw, undefined);
    assert.equal(archive.attachments[0].content, big);
    assert.deepEqual([app.attachments[0].content, app.attachments[0].contentOmitted, app.attachments[0].size], [undefined, 'size-limit', 2048]);
    assert.deepEqual(archive.bcc, []);
    assert.deepEqual(app.bcc, [{ name: '', address: 'hook@app.test' }]);
  });

  test('delivers a message with more parts than the parser reads, with its headers, the raw MIME and a warning', async () => {
    const message = multipart('too many parts', Array.from({ length: 1_200 }, (_, i) => `Content-Type: text/plain\r\n\r\npart ${i}`));
    const result = await sendMail(mxpost.smtpPort, { from: 'sender@example.org', to: ['hook@app.test'], message });
    assert.equal(result.data?.code, 250);
    await waitUntil(() => delivered('too many parts').length === 1);
    const payload = delivered('too many parts')[0]!.json.message;
    assert.deepEqual(payload.parseWarnings.map((w: { code: string }) => w.code), ['parser-limit']);
    assert.equal(Buffer.from(payload.raw, 'base64').toString(), message, 'the raw MIME goes with it though the route does not ask');
    assert.deepEqual(payload.from, [{ name: '', address: 'sender@example.org' }]);
  });

  test('refuses a message past the hard limit on MIME parts with 554 5.6.0 before the 250, and delivers nothing', async () => {
    const message = multipart('parts bomb', Array.from({ length: HARD_LIMITS.parts + 1 }, () => '\r\nx'));
    const result = await sendMail(mxpost.smtpPort, { from: 'sender@example.org', to: ['hook@app.test'], message });
    assert.equal(result.data?.code, 554);
    assert.match(result.data!.text, /^5\.6\.0 /);
    // A later message arrives, and the refused one did not come before it.
    await sendMail(mxpost.smtpPort, { from: 'sender@example.org', to: ['hook@app.test'], message: multipart('after the bomb', ['\r\nok']) });
    await waitUntil(() => delivered('after the bomb').length === 1);
    assert.equal(delivered('parts bomb').length, 0);
  });
});
