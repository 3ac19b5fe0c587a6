import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDnsServer } from '../support/dns-server.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { sleep, Wire } from '../smtp/harness.ts';

// Each limit with a small value, so that each can be reached quickly; the
// defaults and their reasons are in .env.example and docs/smtp.md.
const LIMITS = {
  MXPOST_MAX_MESSAGE_BYTES: '20000',
  MXPOST_MAX_MESSAGES_PER_CONNECTION: '3',
  MXPOST_MAX_ERRORS: '5',
  MXPOST_MAX_COMMAND_BYTES: '1024',
  MXPOST_MAX_HEADER_BYTES: '8192',
  MXPOST_MAX_CONNECTIONS: '5',
  MXPOST_MAX_CONNECTIONS_PER_CLIENT: '3',
  MXPOST_IDLE_TIMEOUT_MS: '800',
  MXPOST_DATA_TIMEOUT_MS: '1000',
  MXPOST_DATA_MIN_RATE: '100',
};

describe('session limits', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let mxpost: Awaited<ReturnType<typeof startMxpost>>;
  const routes = () => `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    mxpost = await startMxpost({ redisUrl: redis.url, routes: routes(), env: LIMITS });
  });
  after(async () => {
    await mxpost?.close();
    await endpoint?.close();
    await redis?.dispose();
  });

  const withSubject = (subject: string) => endpoint.requests.filter((r) => r.json?.message?.subject === subject);
  const enhanced = (reply: { text: string } | null | undefined) => /^(\d\.\d{1,3}\.\d{1,3}) /.exec(reply?.text ?? '')?.[1];

  async function open(localAddress?: string) {
    const wire = await Wire.open(mxpost.smtpPort, localAddress ? { localAddress } : {});
    assert.equal((await wire.send('EHLO client.sender.test'))?.code, 250);
    return wire;
  }

  test('advertises SIZE and refuses MAIL FROM with a larger SIZE= at once with 552 5.3.4', async () => {
    const wire = await Wire.open(mxpost.smtpPort);
    const ehlo = await wire.send('EHLO client.sender.test');
    assert.match(ehlo!.text, /^SIZE 20000$/m);
    const mail = await wire.send('MAIL FROM:<alice@sender.test> SIZE=20001');
    assert.equal(mail?.code, 552);
    assert.equal(enhanced(mail), '5.3.4');
    assert.equal((await wire.send('MAIL FROM:<alice@sender.test> SIZE=19000'))?.code, 250, 'the session goes on');
    wire.close();
  });

  test('refuses a message that grows past the size limit with 552 5.3.4 at the final dot, and the session goes on', async () => {
    const wire = await open();
    await wire.send('MAIL FROM:<alice@sender.test>');
    await wire.send('RCPT TO:<big@example.test>');
    await wire.send('DATA');
    const body = `${'x'.repeat(76)}\r\n`.repeat(3000);
    const reply = await wire.send(`${testMessage({ subject: 'too big', body })}\r\n.`);
    assert.equal(reply?.code, 552);
    assert.equal(enhanced(reply), '5.3.4');
    assert.equal((await wire.send('MAIL FROM:<alice@sender.test>'))?.code, 250);
    wire.close();
    await sleep(300);
    assert.equal(withSubject('too big').length, 0);
  });

  test('answers 452 4.5.3 to the 101st recipient and delivers to the first 100', async () => {
    const wire = await open();
    await wire.send('MAIL FROM:<alice@sender.test>');
    const codes: number[] = [];
    for (let i = 1; i <= 105; i++) codes.push((await wire.send(`RCPT TO:<r${i}@example.test>`))!.code);
    assert.deepEqual(codes.slice(0, 100), Array(100).fill(250));
    assert.deepEqual(codes.slice(100), Array(5).fill(452), 'over-limit recipients are not errors that end the session');
    assert.equal(enhanced(wire.last), '4.5.3');
    assert.equal((await wire.send('RCPT TO:<r7@example.test>'))?.code, 250, 'a recipient given again is not one more');
    await wire.send('DATA');
    assert.equal((await wire.send(`${testMessage({ subject: 'hundred' })}\r\n.`))?.code, 250);
    wire.close();
    await waitUntil(() => withSubject('hundred').length === 1);
    assert.equal(withSubject('hundred')[0]!.json.envelope.rcptTo.length, 100);
  });

  test('ends the session with 421 4.7.0 at the MAIL FROM past the per-connection limit, RSET or not', async () => {
    const wire = await open();
    for (let i = 0; i < 3; i++) {
      assert.equal((await wire.send('MAIL FROM:<alice@sender.test>'))?.code, 250);
      assert.equal((await wire.send('RSET'))?.code, 250);
    }
    const fourth = await wire.send('MAIL FROM:<alice@sender.test>');
    assert.equal(fourth?.code, 421);
    assert.equal(enhanced(fourth), '4.7.0');
    await wire.closed;
  });

  test('ends the session with 421 4.7.0 after MXPOST_MAX_ERRORS refused commands and recipients', async () => {
    const wire = await open();
    assert.equal((await wire.send('FOO'))?.code, 500);
    assert.equal((await wire.send('RCPT TO:<x@example.test>'))?.code, 503);
    await wire.send('MAIL FROM:<alice@sender.test>');
    assert.equal((await wire.send('RCPT TO:<x@elsewhere.test>'))?.code, 550);
    assert.equal((await wire.send('HELO'))?.code, 501);
    assert.equal((await wire.send('BAR'))?.code, 500);
    await wire.waitFor(wire.replies.length + 1);
    assert.equal(wire.last?.code, 421);
    assert.equal(enhanced(wire.last), '4.7.0');
    await wire.closed;
  });

  test('ends the session with 421 when a command line is longer than MXPOST_MAX_COMMAND_BYTES', async () => {
    const wire = await open();
    const reply = await wire.send(`MAIL FROM:<${'a'.repeat(1100)}@sender.test>`);
    assert.equal(reply?.code, 421);
    assert.match(reply!.text, /^4\.\d\.\d .*too long/i);
    await wire.closed;
  });

  test('refuses a header block over MXPOST_MAX_HEADER_BYTES with 552 5.3.4', async () => {
    const wire = await open();
    await wire.send('MAIL FROM:<alice@sender.test>');
    await wire.send('RCPT TO:<header@example.test>');
    await wire.send('DATA');
    const headers = Array.from({ length: 120 }, (_, i) => `X-Filler-${i}: ${'h'.repeat(90)}`);
    const reply = await wire.send(`${testMessage({ subject: 'huge header', headers })}\r\n.`);
    assert.equal(reply?.code, 552);
    assert.equal(enhanced(reply), '5.3.4');
    assert.match(reply!.text, /header/);
    wire.close();
  });

  test('closes an idle session with 421 4.4.2 after MXPOST_IDLE_TIMEOUT_MS', async () => {
    const wire = await open();
    const started = Date.now();
    await wire.closed;
    assert.ok(Date.now() - started >= 700, 'not before the idle timeout');
    assert.equal(wire.last?.code, 421);
    assert.equal(enhanced(wire.last), '4.4.2');
  });

  test('cuts off a client that sends DATA one byte at a time with 421 4.4.2, and delivers nothing', async () => {
    const wire = await open();
    await wire.send('MAIL FROM:<alice@sender.test>');
    await wire.send('RCPT TO:<slow@example.test>');
    await wire.send('DATA');
    const message = testMessage({ subject: 'one byte at a time' });
    const started = Date.now();
    const before = wire.replies.length;
    // Faster than the idle timeout, so only the DATA budget can stop it.
    for (let i = 0; i < message.length && !wire.socket.destroyed && wire.replies.length === before; i++) {
      wire.socket.write(message[i]!);
      await sleep(250);
    }
    await wire.closed;
    assert.equal(wire.last?.code, 421);
    assert.equal(enhanced(wire.last), '4.4.2');
    assert.ok(Date.now() - started < 5000, 'cut off after about MXPOST_DATA_TIMEOUT_MS');
    await sleep(200);
    assert.equal(withSubject('one byte at a time').length, 0);
  });

  test('refuses connections over the per-client and total limits with 421 4.7.0, and frees each place on close', async () => {
    const first = [await open('127.0.0.1'), await open('127.0.0.1'), await open('127.0.0.1')];
    const fourth = await Wire.open(mxpost.smtpPort, { localAddress: '127.0.0.1' });
    assert.equal(fourth.replies[0]?.code, 421);
    assert.equal(enhanced(fourth.replies[0]), '4.7.0');
    assert.match(fourth.replies[0]!.text, /your address/);
    const other = [await open('127.0.0.2'), await open('127.0.0.3')];
    const sixth = await Wire.open(mxpost.smtpPort, { localAddress: '127.0.0.4' });
    assert.equal(sixth.replies[0]?.code, 421, 'five in total');
    assert.match(sixth.replies[0]!.text, /^4\.7\.0 Too many connections/);
    first[0]!.close();
    await sleep(100);
    const again = await Wire.open(mxpost.smtpPort, { localAddress: '127.0.0.1' });
    assert.equal(again.replies[0]?.code, 220);
    for (const wire of [...first, ...other, again]) wire.close();
  });

  test('answers 451 4.3.0 when the reply to the final dot would take longer than MXPOST_DATA_REPLY_TIMEOUT_MS, and stores nothing', async () => {
    // DNS that never answers holds authentication for MXPOST_AUTH_TIMEOUT_MS (2 s),
    // longer than the reply deadline (0.7 s).
    const dns = await startDnsServer({});
    dns.mute(true);
    const slow = await startMxpost({
      redisUrl: redis.url,
      routes: routes(),
      env: { MXPOST_DNS_SERVERS: dns.address, MXPOST_DNS_TIMEOUT_MS: '2000', MXPOST_AUTH_TIMEOUT_MS: '2000', MXPOST_DATA_REPLY_TIMEOUT_MS: '700' },
    });
    try {
      const started = Date.now();
      const result = await sendMail(slow.smtpPort, { from: 'alice@sender.test', to: ['late@example.test'], message: testMessage({ subject: 'too late' }) });
      assert.equal(result.data?.code, 451);
      assert.equal(enhanced(result.data), '4.3.0');
      assert.ok(Date.now() - started < 2000, 'answered at the deadline, not when authentication gave up');
      // Authentication ends at 2 s; the acceptor then finds the deadline passed and stores nothing.
      await sleep(2500);
      assert.equal(withSubject('too late').length, 0);
    } finally {
      await slow.close();
      await dns.stop();
    }
  });
});
