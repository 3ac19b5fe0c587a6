import assert from 'node:assert/strict';
import { testMessage } from '../support/smtp-client.ts';
import { sleep, Wire } from '../smtp/harness.ts';
import { badInputSuite, type BadInputCase } from '../smtp/bad-input.ts';

// Bad input, part two: what is sent as DATA (8-bit, NUL, long lines, huge
// headers, deep MIME, thousands of recipients, slow and vanishing clients).
const CASES: BadInputCase[] = [
  // Messages.
  ['8-bit data without BODY=8BITMIME: accepted, bytes kept', async ({ data, delivered }) => {
    assert.equal(await data(Buffer.from(testMessage({ subject: 'eight bit', body: 'Grüße aus Köln – €' }), 'utf8')), '250 2.0.0');
    assert.match((await delivered('eight bit')).message.text, /Grüße aus Köln – €/);
  }],
  ['NUL bytes in the body (RFC 5322 obs-body): accepted, kept', async ({ data, delivered }) => {
    assert.equal(await data(testMessage({ subject: 'nul bytes', body: 'before\x00after' })), '250 2.0.0');
    assert.match((await delivered('nul bytes')).message.text, /before\u0000after/);
  }],
  ['a 5,000-octet line in the body (over RFC 5321’s 1,000): accepted, the line intact', async ({ data, delivered }) => {
    const line = 'w'.repeat(5000);
    assert.equal(await data(testMessage({ subject: 'long line', body: line })), '250 2.0.0');
    assert.ok((await delivered('long line')).message.text.includes(line));
  }],
  ['bare LF line endings throughout: accepted, parsed as lines', async ({ data, delivered }) => {
    assert.equal(await data(testMessage({ subject: 'bare lf', body: 'one\ntwo' }).replaceAll('\r\n', '\n').replace(/\n$/, '')), '250 2.0.0');
    assert.equal((await delivered('bare lf')).message.text, 'one\ntwo\n');
  }],
  ['a header block of 3 MB: 552 5.3.4', async ({ data }) => {
    const headers = Array.from({ length: 30_000 }, (_, i) => `X-Junk-${i}: ${'j'.repeat(90)}`);
    assert.equal(await data(testMessage({ subject: 'huge header', headers })), '552 5.3.4');
  }],
  ['a message over the size limit: 552 5.3.4 at the end', async ({ data }) => assert.equal(await data(testMessage({ subject: 'over size', body: `${'b'.repeat(998)}\r\n`.repeat(5000) })), '552 5.3.4')],
  ['MIME nested 100 levels deep: accepted and delivered', async ({ data, delivered }) => {
    let body = 'Content-Type: text/plain\r\n\r\ndeepest text\r\n';
    for (let depth = 99; depth >= 0; depth--) body = `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${body}--b${depth}--\r\n`;
    const message = `From: <alice@sender.test>\r\nTo: <bad@example.test>\r\nSubject: deep mime\r\nMIME-Version: 1.0\r\n${body}`;
    assert.equal(await data(message), '250 2.0.0');
    await delivered('deep mime');
  }],
  ['a multipart whose boundary never closes and a part with broken base64: accepted', async ({ data, delivered }) => {
    const message = [
      'From: <alice@sender.test>', 'Subject: broken mime', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="never"', '',
      '--never', 'Content-Type: text/plain', '', 'visible', '--never', 'Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', '!!!not*base64###', '',
    ].join('\r\n');
    assert.equal(await data(message), '250 2.0.0');
    await delivered('broken mime');
  }],
  ['a message of headers only, and one with no header at all: accepted', async ({ data }) => {
    assert.equal(await data('From: <alice@sender.test>\r\nSubject: headers only'), '250 2.0.0');
    assert.equal(await data('\r\njust a body, no header'), '250 2.0.0');
  }],
  ['an empty message (the final dot at once): accepted', async ({ code, inData }) => {
    const wire = await inData();
    assert.equal(code(await wire.send('.')), '250 2.0.0');
    wire.close();
  }],
  ['5,000 recipients pipelined: 100 accepted, the rest 452 4.5.3, the session goes on to DATA', async ({ code, session, delivered }) => {
    const wire = await session();
    await wire.send('MAIL FROM:<alice@sender.test>');
    const start = wire.replies.length;
    wire.socket.write(Array.from({ length: 5000 }, (_, i) => `RCPT TO:<many${i}@example.test>\r\n`).join(''));
    await wire.waitFor(start + 5000, 20_000);
    const codes = wire.replies.slice(start).map(code);
    assert.equal(codes.filter((c) => c === '250 2.1.5').length, 100);
    assert.equal(codes.filter((c) => c === '452 4.5.3').length, 4900);
    assert.equal((await wire.send('DATA'))?.code, 354);
    assert.equal(code(await wire.send(`${testMessage({ subject: 'many recipients' })}\r\n.`)), '250 2.0.0');
    wire.close();
    assert.equal((await delivered('many recipients')).envelope.rcptTo.length, 100);
  }],
  ['a client that sends DATA at one byte per second: 421 4.4.2, nothing delivered', async ({ code, inData, withSubject }) => {
    const wire = await inData();
    const text = testMessage({ subject: 'trickle' });
    for (let i = 0; i < text.length && !wire.socket.destroyed; i++) {
      wire.socket.write(text[i]!);
      await Promise.race([sleep(1000), wire.closed]);
    }
    await wire.closed;
    assert.equal(code(wire.last), '421 4.4.2');
    await sleep(200);
    assert.equal(withSubject('trickle').length, 0);
  }],
  ['a client that disconnects mid-DATA: the partial message is never delivered', async ({ inData, withSubject }) => {
    const wire = await inData();
    wire.socket.write(testMessage({ subject: 'half sent', body: 'x'.repeat(5000) }).slice(0, 3000));
    await sleep(100);
    wire.close();
    await sleep(500);
    assert.equal(withSubject('half sent').length, 0);
  }],
  ['a client that disconnects right after 354: nothing delivered', async ({ inData, requests }) => {
    const wire = await inData('gone@example.test');
    wire.close();
    await sleep(300);
    assert.ok(!requests().some((r) => r.json?.envelope?.rcptTo?.includes('gone@example.test')));
  }],
  ['a client that goes silent: 421 4.4.2 after the idle timeout', async ({ code, session }) => {
    const wire = await session();
    await wire.closed;
    assert.equal(code(wire.last), '421 4.4.2');
  }],
  ['a whole transaction pipelined in one packet: every reply, in order', async ({ port, code }) => {
    const wire = await Wire.open(port);
    wire.socket.write(`EHLO client.sender.test\r\nMAIL FROM:<alice@sender.test>\r\nRCPT TO:<pipe@example.test>\r\nRCPT TO:<nobody@elsewhere.test>\r\nDATA\r\n`);
    await wire.waitFor(6);
    assert.deepEqual(wire.replies.slice(1).map((r) => r.code), [250, 250, 250, 550, 354]);
    assert.equal(code(await wire.send(`${testMessage({ subject: 'pipelined' })}\r\n.\r\nQUIT`)), '250 2.0.0');
    await wire.closed;
    assert.equal(wire.last?.code, 221);
  }],
  ['1,000 NOOPs pipelined: 1,000 answers, and the session still works', async ({ session }) => {
    const wire = await session();
    const start = wire.replies.length;
    wire.socket.write('NOOP\r\n'.repeat(1000));
    await wire.waitFor(start + 1000);
    assert.ok(wire.replies.slice(start).every((r) => r.code === 250));
    assert.equal((await wire.send('MAIL FROM:<alice@sender.test>'))?.code, 250);
    wire.close();
  }],
  ['RSET in the middle of a transaction forgets the envelope: RCPT then gets 503 5.5.1', async ({ code, session }) => {
    const wire = await session();
    await wire.send('MAIL FROM:<alice@sender.test>');
    await wire.send('RCPT TO:<reset@example.test>');
    assert.equal((await wire.send('RSET'))?.code, 250);
    assert.equal(code(await wire.send('RCPT TO:<reset@example.test>')), '503 5.5.1', 'the envelope is gone');
    wire.close();
  }],
  ['a connection closed right after the greeting, and a reset connection: no harm', async ({ port }) => {
    const quiet = await Wire.open(port);
    quiet.close();
    const reset = await Wire.open(port);
    reset.socket.resetAndDestroy();
    await sleep(50);
  }],
];

badInputSuite('bad input: messages and clients', CASES);
