import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { makeCertificate, sleep, Wire } from '../smtp/harness.ts';

describe('STARTTLS', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;
  let dir: string;
  let files: { certPath: string; keyPath: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mxpost-tls-'));
    files = makeCertificate(dir, 'mx-one.test');
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    mxpost = await startMxpost({
      redisUrl: redis.url,
      routes: `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`,
      env: { MXPOST_TLS_CERT: files.certPath, MXPOST_TLS_KEY: files.keyPath, MXPOST_MAX_CONNECTIONS_PER_CLIENT: '3' },
    });
  });
  after(async () => {
    await mxpost?.close();
    await endpoint?.close();
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** STARTTLS on a plaintext session; resolves with the TLS socket and a client over it. */
  async function starttls(wire: Wire, options: ConnectionOptions = {}): Promise<{ tls: TLSSocket; wire: Wire }> {
    const ready = await wire.send('STARTTLS');
    assert.equal(ready?.code, 220);
    wire.socket.removeAllListeners('data');
    const tls = tlsConnect({ socket: wire.socket, rejectUnauthorized: false, servername: 'mx.test', ...options });
    await once(tls, 'secureConnect');
    return { tls, wire: new Wire(tls) };
  }

  const peerName = (tls: TLSSocket): string | undefined => String(tls.getPeerCertificate().subject?.CN ?? '') || undefined;

  test('offers STARTTLS and records the negotiated protocol and cipher in the payload envelope', async () => {
    const plain = await Wire.open(mxpost.smtpPort);
    const ehlo = await plain.send('EHLO client.sender.test');
    assert.match(ehlo!.text, /^STARTTLS$/m);
    const { tls, wire } = await starttls(plain);
    const secureEhlo = await wire.send('EHLO client.sender.test');
    assert.equal(secureEhlo?.code, 250);
    assert.doesNotMatch(secureEhlo!.text, /STARTTLS/, 'not offered again inside TLS');
    assert.equal((await wire.send('MAIL FROM:<alice@sender.test>'))?.code, 250);
    assert.equal((await wire.send('RCPT TO:<tls@example.test>'))?.code, 250);
    assert.equal((await wire.send('DATA'))?.code, 354);
    const done = await wire.send(`${testMessage({ subject: 'over TLS' })}\r\n.`);
    assert.equal(done?.code, 250, done?.text);
    const [request] = await waitFor(() => endpoint.requests.filter((r) => r.json?.message?.subject === 'over TLS'));
    assert.deepEqual(request!.json.envelope.tls, { protocol: tls.getProtocol(), cipher: tls.getCipher().standardName });
    assert.match(request!.json.envelope.tls.protocol, /^TLSv1\.[23]$/);
    wire.close();
  });

  test('negotiates TLS 1.2 and refuses TLS 1.1 and older', async () => {
    const v12 = await starttls(await Wire.open(mxpost.smtpPort), { maxVersion: 'TLSv1.2' });
    assert.equal(v12.tls.getProtocol(), 'TLSv1.2');
    v12.wire.close();

    const old = await Wire.open(mxpost.smtpPort);
    assert.equal((await old.send('STARTTLS'))?.code, 220);
    old.socket.removeAllListeners('data');
    // SECLEVEL=0 lets this client offer TLS 1.1 at all; the refusal is the server's.
    const tls = tlsConnect({ socket: old.socket, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const [err] = (await once(tls, 'error')) as [NodeJS.ErrnoException];
    assert.match(String(err.code), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
    tls.destroy();
  });

  test('discards commands pipelined after STARTTLS in the same packet (the CVE-2011-0411 injection)', async () => {
    const plain = await Wire.open(mxpost.smtpPort);
    await plain.send('EHLO client.sender.test');
    plain.socket.write('STARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<injected@example.test>\r\n');
    await plain.waitFor(3);
    assert.equal(plain.last?.code, 220);
    await sleep(100);
    assert.equal(plain.replies.length, 3, 'no plaintext reply to the injected commands');
    plain.socket.removeAllListeners('data');
    const tls = tlsConnect({ socket: plain.socket, rejectUnauthorized: false });
    await once(tls, 'secureConnect');
    const wire = new Wire(tls);
    const first = await wire.send('EHLO client.sender.test');
    assert.equal(first?.code, 250, 'the first reply inside TLS answers our own command');
    assert.match(first!.text, /^mx\.test /);
    assert.equal((await wire.send('RCPT TO:<injected@example.test>'))?.code, 503, 'the injected MAIL FROM was never run');
    assert.equal(wire.replies.length, 2);
    wire.close();
  });

  test('forgets the EHLO name and a transaction begun before STARTTLS (RFC 3207 section 4.2)', async () => {
    const plain = await Wire.open(mxpost.smtpPort);
    await plain.send('EHLO before-tls.sender.test');
    assert.equal((await plain.send('MAIL FROM:<alice@sender.test>'))?.code, 250);
    const { wire } = await starttls(plain);
    const mail = await wire.send('MAIL FROM:<alice@sender.test>');
    assert.equal(mail?.code, 503, 'EHLO must be given again');
    assert.match(mail!.text, /HELO\/EHLO first/);
    await wire.send('EHLO after-tls.sender.test');
    assert.equal((await wire.send('RCPT TO:<x@example.test>'))?.code, 503, 'the MAIL FROM from before TLS is gone');
    wire.close();
  });

  test('a session that ends after STARTTLS gives its place back to the per-client limit', async () => {
    // smtp-server drops every listener of the plaintext socket at STARTTLS, so the
    // place must be given back when the session closes, not when that socket does.
    for (let i = 0; i < 6; i++) {
      const { wire } = await starttls(await Wire.open(mxpost.smtpPort));
      assert.equal((await wire.send('QUIT'))?.code, 221);
      await wire.closed;
      await sleep(20);
    }
    const last = await Wire.open(mxpost.smtpPort);
    assert.equal(last.replies[0]?.code, 220);
    last.close();
  });

  test('uses a renewed certificate for new sessions without a restart, and keeps it when the next files do not load', async () => {
    const established = await starttls(await Wire.open(mxpost.smtpPort));
    assert.equal(peerName(established.tls), 'mx-one.test');

    const renewed = makeCertificate(dir, 'mx-two.test');
    copyFileSync(renewed.keyPath, files.keyPath);
    copyFileSync(renewed.certPath, files.certPath);
    let name: string | undefined;
    // The files are polled once a second.
    for (let i = 0; i < 40 && name !== 'mx-two.test'; i++) {
      const fresh = await starttls(await Wire.open(mxpost.smtpPort));
      name = peerName(fresh.tls);
      fresh.wire.close();
      if (name !== 'mx-two.test') await sleep(200);
    }
    assert.equal(name, 'mx-two.test', 'new sessions get the renewed certificate');
    assert.equal((await established.wire.send('NOOP'))?.code, 250, 'a session from before the renewal goes on');
    established.wire.close();

    writeFileSync(files.keyPath, 'not a key\n');
    await sleep(2500);
    const after = await starttls(await Wire.open(mxpost.smtpPort));
    assert.equal(peerName(after.tls), 'mx-two.test', 'a key that does not load leaves the certificate in force');
    after.wire.close();
  });
});

async function waitFor<T>(found: () => T[], timeoutMs = 10_000): Promise<T[]> {
  await waitUntil(() => found().length > 0, timeoutMs);
  return found();
}
