import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDnsServer } from '../support/dns-server.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { spawnMxpost, type MxpostProcess } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { sleep, Wire } from '../smtp/harness.ts';
import { proxyV1, proxyV2 } from '../smtp/proxy-headers.ts';

// Behind a load balancer every connection comes from the balancer; with the PROXY
// protocol on, SPF, the per-client limits, the logs and the payload must all see
// the client named in the header instead, and only a trusted proxy may name one.
describe('PROXY protocol', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let mxpost: MxpostProcess;
  let dir: string;
  const routes = () => `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mxpost-proxy-'));
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    // SPF passes for 203.0.113.7 only, so the verdict shows which address SPF was given.
    dns = await startDnsServer({ 'sender.test': [{ TXT: 'v=spf1 ip4:203.0.113.7 -all' }] });
    writeFileSync(join(dir, 'routes.yaml'), routes());
    mxpost = await spawnMxpost('serve', {
      MXPOST_ROUTES: join(dir, 'routes.yaml'),
      MXPOST_REDIS_URL: redis.url,
      MXPOST_REDIS_PREFIX: `proxy-${Date.now()}`,
      MXPOST_HOSTNAME: 'mx.test',
      MXPOST_DNS_SERVERS: dns.address,
      MXPOST_PROXY_PROTOCOL: 'auto',
      MXPOST_PROXY_TRUSTED: '127.0.0.1/32',
      MXPOST_MAX_CONNECTIONS_PER_CLIENT: '2',
      MXPOST_IDLE_TIMEOUT_MS: '1500',
    });
  });
  after(async () => {
    await mxpost?.stop();
    await dns?.stop();
    await endpoint?.close();
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sendThrough(preface: Buffer, subject: string) {
    const wire = await Wire.open(mxpost.smtpPort!, { preface });
    assert.equal(wire.replies[0]?.code, 220, wire.received);
    await wire.send('EHLO client.sender.test');
    await wire.send('MAIL FROM:<alice@sender.test>');
    await wire.send('RCPT TO:<proxied@example.test>');
    await wire.send('DATA');
    const reply = await wire.send(`${testMessage({ subject })}\r\n.`);
    assert.equal(reply?.code, 250, reply?.text);
    wire.close();
    await waitUntil(() => endpoint.requests.some((r) => r.json?.message?.subject === subject));
    return endpoint.requests.find((r) => r.json?.message?.subject === subject)!.json;
  }

  const logLines = () =>
    mxpost
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  test('takes the client from a PROXY v1 header: SPF, the payload and the log line see it, not the proxy', async () => {
    const payload = await sendThrough(proxyV1('203.0.113.7', 40001), 'via v1');
    assert.equal(payload.envelope.remoteAddress, '203.0.113.7');
    assert.equal(payload.envelope.remotePort, 40001);
    assert.equal(payload.auth.spf.result, 'pass', 'SPF was checked for the address in the header');
    await waitUntil(() => logLines().some((l) => l.action === 'transaction' && l.code === 250 && l.client === '203.0.113.7'));
  });

  test('takes the client from a PROXY v2 header with TLVs, as an AWS Network Load Balancer sends it', async () => {
    const tlv = Buffer.concat([Buffer.from([0xea, 0x00, 0x16, 0x01]), Buffer.from('vpce-0123456789abcdef0')]);
    const payload = await sendThrough(proxyV2('198.51.100.9', 51515, tlv), 'via v2');
    assert.equal(payload.envelope.remoteAddress, '198.51.100.9');
    assert.equal(payload.auth.spf.result, 'fail', 'SPF judged 198.51.100.9, which sender.test does not allow');
  });

  test('a v2 LOCAL header (a health check) leaves the proxy’s own address', async () => {
    const local = Buffer.from(proxyV2('192.0.2.1', 1));
    local[12] = 0x20;
    const payload = await sendThrough(local, 'via local');
    assert.equal(payload.envelope.remoteAddress, '127.0.0.1');
  });

  test('counts connections per client by the address in the header', async () => {
    const a1 = await Wire.open(mxpost.smtpPort!, { preface: proxyV1('203.0.113.50', 1) });
    const a2 = await Wire.open(mxpost.smtpPort!, { preface: proxyV1('203.0.113.50', 2) });
    const a3 = await Wire.open(mxpost.smtpPort!, { preface: proxyV1('203.0.113.50', 3) });
    assert.equal(a3.replies[0]?.code, 421);
    assert.match(a3.replies[0]!.text, /^4\.7\.0 /);
    await a3.closed;
    const other = await Wire.open(mxpost.smtpPort!, { preface: proxyV2('203.0.113.51', 4) });
    assert.equal(other.replies[0]?.code, 220, 'another client through the same proxy is not affected');
    a1.close();
    await sleep(100);
    const again = await Wire.open(mxpost.smtpPort!, { preface: proxyV1('203.0.113.50', 5) });
    assert.equal(again.replies[0]?.code, 220, 'a closed connection frees its place');
    for (const wire of [a2, other, again]) wire.close();
  });

  test('drops a trusted peer’s connection without a word when it does not start with a valid header', async () => {
    for (const start of ['EHLO client.sender.test\r\n', 'PROXY TCP4 not-an-ip 10.0.0.1 1 25\r\n', 'GET / HTTP/1.1\r\n']) {
      const wire = await Wire.open(mxpost.smtpPort!, { preface: Buffer.from(start), greeting: false });
      await wire.closed;
      assert.equal(wire.received, '', `${JSON.stringify(start)} got no reply`);
    }
    // A header that never comes is given up after the idle timeout (1.5 s here).
    const silent = await Wire.open(mxpost.smtpPort!, { greeting: false });
    const started = Date.now();
    await silent.closed;
    assert.ok(Date.now() - started >= 1000 && Date.now() - started < 5000);
    assert.equal(silent.received, '');
  });

  test('reads a header that arrives a few bytes at a time', async () => {
    const wire = await Wire.open(mxpost.smtpPort!, { greeting: false });
    const header = proxyV2('203.0.113.60', 6);
    for (let i = 0; i < header.length; i += 7) {
      wire.socket.write(header.subarray(i, i + 7));
      await sleep(5);
    }
    await wire.waitFor(1);
    assert.equal(wire.replies[0]?.code, 220);
    wire.close();
  });

  test('refuses peers outside MXPOST_PROXY_TRUSTED with 421 4.7.0, header or not', async () => {
    const untrusted = await Wire.open(mxpost.smtpPort!, { localAddress: '127.0.0.2', preface: proxyV1('203.0.113.7', 7) });
    assert.equal(untrusted.replies[0]?.code, 421);
    assert.match(untrusted.replies[0]!.text, /^4\.7\.0 /);
    await untrusted.closed;
  });

  test('in v2 mode, refuses a v1 header', async () => {
    const strict = await startMxpost({ redisUrl: redis.url, routes: routes(), env: { MXPOST_PROXY_PROTOCOL: 'v2', MXPOST_PROXY_TRUSTED: '127.0.0.0/8' } });
    try {
      const v1 = await Wire.open(strict.smtpPort, { preface: proxyV1('203.0.113.7', 8), greeting: false });
      await v1.closed;
      assert.equal(v1.received, '');
      const v2 = await Wire.open(strict.smtpPort, { preface: proxyV2('203.0.113.7', 9) });
      assert.equal(v2.replies[0]?.code, 220);
      v2.close();
    } finally {
      await strict.close();
    }
  });
});
