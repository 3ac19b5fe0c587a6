import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeKey, sign } from '../auth/signing.ts';
import { startDnsServer } from '../support/dns-server.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';
import { sleep, Wire } from '../smtp/harness.ts';

// SMTP smuggling (SEC Consult, December 2023; Postfix CVE-2023-51764): a sender
// ends DATA with a sequence that one server takes for the end of the message and
// the next does not, and the text after it becomes a second, forged message.
// mxpost ends DATA only at CRLF "." CRLF; every other sequence is message text.
const VARIANTS: Record<string, string> = {
  'LF . LF': '\n.\n',
  'LF . CRLF': '\n.\r\n',
  'CR . CR': '\r.\r',
  'CRLF . CR': '\r\n.\r',
  'CR . CRLF': '\r.\r\n',
  'CRLF NUL . CRLF': '\r\n\x00.\r\n',
  'CRLF . LF': '\r\n.\n',
  'LF . CR': '\n.\r',
  'CRLF . NUL CRLF': '\r\n.\x00\r\n',
  'CRLF . CR CRLF': '\r\n.\r\r\n',
  'CR CRLF . CR CRLF': '\r\r\n.\r\r\n',
  'LF LF . LF LF': '\n\n.\n\n',
};

describe('SMTP smuggling and bare line endings', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;
  const key = makeKey('sender.test', 's1');

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    dns = await startDnsServer({ ...key.zone });
    mxpost = await startMxpost({
      redisUrl: redis.url,
      routes: `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`,
      env: { MXPOST_DNS_SERVERS: dns.address },
    });
  });
  after(async () => {
    await mxpost?.close();
    await dns?.stop();
    await endpoint?.close();
    await redis?.dispose();
  });

  const withSubject = (subject: string) => endpoint.requests.filter((r) => r.json?.message?.subject === subject);

  async function transaction(wire: Wire, to: string) {
    assert.equal((await wire.send('EHLO client.sender.test'))?.code, 250);
    assert.equal((await wire.send('MAIL FROM:<alice@sender.test>'))?.code, 250);
    assert.equal((await wire.send(`RCPT TO:<${to}>`))?.code, 250);
    assert.equal((await wire.send('DATA'))?.code, 354);
  }

  for (const [name, sequence] of Object.entries(VARIANTS)) {
    test(`"${name}" neither ends the message nor starts a second transaction; the body keeps what followed`, async () => {
      const wire = await Wire.open(mxpost.smtpPort);
      await transaction(wire, 'smuggle@example.test');
      const before = wire.replies.length;
      wire.socket.write(
        `From: <alice@sender.test>\r\nTo: <smuggle@example.test>\r\nSubject: outer ${name}\r\n\r\nbefore the sequence${sequence}` +
          'MAIL FROM:<admin@example.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n' +
          `From: <admin@example.test>\r\nSubject: smuggled ${name}\r\n\r\nforged text\r\n.\r\n`,
      );
      await wire.waitFor(before + 1);
      assert.equal(wire.last?.code, 250, `one reply, 250, for the one message: ${wire.last?.text}`);
      await sleep(150);
      assert.equal(wire.replies.length, before + 1, 'no reply to any smuggled command');
      assert.equal((await wire.send('QUIT'))?.code, 221);

      await waitUntil(() => withSubject(`outer ${name}`).length === 1);
      await sleep(100);
      assert.equal(withSubject(`outer ${name}`).length, 1, 'exactly one delivery');
      assert.equal(withSubject(`smuggled ${name}`).length, 0, 'nothing smuggled became a message');
      const text: string = withSubject(`outer ${name}`)[0]!.json.message.text;
      assert.match(text, /before the sequence/);
      assert.match(text, /MAIL FROM:<admin@example\.test>[\s\S]*forged text/, 'the body keeps the text after the sequence');
    });
  }

  test('a dot-stuffed line and a lone dot split across packets are content, not the end', async () => {
    const wire = await Wire.open(mxpost.smtpPort);
    await transaction(wire, 'stuffed@example.test');
    wire.socket.write('Subject: stuffed\r\n\r\n..\r\n');
    await sleep(30);
    wire.socket.write('..leading dot\r\nlast line\r\n');
    await sleep(30);
    wire.socket.write('.');
    await sleep(30);
    wire.socket.write('\r\n');
    await wire.waitFor(wire.replies.length + 1);
    assert.equal(wire.last?.code, 250);
    wire.close();
    await waitUntil(() => withSubject('stuffed').length === 1);
    assert.equal(withSubject('stuffed')[0]!.json.message.text, '.\n.leading dot\nlast line\n');
  });

  // The policy for bare CR and LF inside DATA: each becomes CRLF before DKIM and
  // the parser read the message, so both judge the same lines. Without it, a bare
  // CR would leave DKIM checking other bytes than the ones the parser splits.
  for (const [name, eol] of [['bare LF', '\n'], ['bare CR', '\r']] as const) {
    test(`a DKIM-signed message sent with ${name} line endings in its body verifies, and parses into the same lines`, async () => {
      const subject = `signed ${name}`;
      const signed = await sign(
        `From: Alice <alice@sender.test>\r\nTo: <dkim@example.test>\r\nSubject: ${subject}\r\nMessage-ID: <${name.replace(' ', '-')}@sender.test>\r\n\r\nline one\r\nline two\r\nline three\r\n`,
        key,
      );
      const text = signed.toString('latin1');
      const headerEnd = text.indexOf('\r\n\r\n') + 4;
      // The last line keeps its CRLF: it is part of the CRLF "." CRLF that ends DATA.
      const sent = text.slice(0, headerEnd) + text.slice(headerEnd, -2).replaceAll('\r\n', eol);
      const wire = await Wire.open(mxpost.smtpPort);
      await transaction(wire, 'dkim@example.test');
      const reply = await wire.send(Buffer.from(`${sent}\r\n.\r\n`, 'latin1'));
      assert.equal(reply?.code, 250, reply?.text);
      wire.close();
      await waitUntil(() => withSubject(subject).length === 1);
      const payload = withSubject(subject)[0]!.json;
      assert.deepEqual(
        payload.auth.dkim.map((d: { result: string; domain: string }) => [d.result, d.domain]),
        [['pass', 'sender.test']],
      );
      assert.equal(payload.message.text, 'line one\nline two\nline three\n');
    });
  }
});
