import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Wire } from '../smtp/harness.ts';
import { badInputSuite, type BadInputCase } from '../smtp/bad-input.ts';

// Bad input, part one: what reaches the command parser (greeting, EHLO, command
// sequence, line lengths, addresses). Part two is hardening-bad-input-messages.
const CASES: BadInputCase[] = [
  // Before and around EHLO.
  ['garbage bytes instead of a command: 500 5.5.2', async ({ command }) => assert.equal(await command(Buffer.from('\x01\x02\xfe\xffgarbage\r\n', 'latin1'), false), '500 5.5.2')],
  ['a TLS ClientHello on the plaintext port: 500 5.5.2', async ({ command }) => assert.equal(await command(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), Buffer.alloc(32, 7), Buffer.from('\r\n')]), false), '500 5.5.2')],
  ['a command sent before the greeting: 421, closed', async ({ port }) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.write('EHLO early.sender.test\r\n');
    const wire = new Wire(socket);
    await wire.closed;
    assert.equal(wire.replies[0]?.code, 421);
    assert.match(wire.replies[0]!.text, /too soon/);
  }],
  ['an HTTP GET sent to the SMTP port: 421, closed', async ({ port, code }) => {
    const wire = await Wire.open(port);
    assert.equal(code(await wire.send('GET / HTTP/1.1')), '421 4.4.2');
    await wire.closed;
  }],
  ['an HTTP POST with headers, as a browser sends it at once: 421, closed', async ({ port }) => {
    const socket = connect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    socket.write('POST /mail HTTP/1.1\r\nHost: mx.test\r\nContent-Length: 4\r\n\r\nQUIT');
    const wire = new Wire(socket);
    await wire.closed;
    assert.equal(wire.replies[0]?.code, 421);
    assert.equal(wire.replies.length, 1, 'nothing after the 421');
  }],
  ['EHLO without a name: 501 (EHLO replies carry no enhanced code, RFC 2034)', async ({ command }) => assert.equal(await command('EHLO', false), '501')],
  ['EHLO with a NUL and control characters in the name: 501', async ({ command }) => assert.equal(await command('EHLO bad\x00na\x07me', false), '501')],
  ['EHLO with a 400-character name: 501', async ({ command }) => assert.equal(await command(`EHLO ${'h'.repeat(400)}.test`, false), '501')],
  ['MAIL before EHLO: 503 5.5.1', async ({ command }) => assert.equal(await command('MAIL FROM:<alice@sender.test>', false), '503 5.5.1')],
  ['RCPT before MAIL: 503 5.5.1', async ({ command }) => assert.equal(await command('RCPT TO:<x@example.test>'), '503 5.5.1')],
  ['DATA before RCPT: 503 5.5.1', async ({ code, session }) => {
    const wire = await session();
    await wire.send('MAIL FROM:<alice@sender.test>');
    assert.equal(code(await wire.send('DATA')), '503 5.5.1');
    wire.close();
  }],
  ['a second MAIL inside a transaction: 503 5.5.1', async ({ code, session }) => {
    const wire = await session();
    await wire.send('MAIL FROM:<alice@sender.test>');
    assert.equal(code(await wire.send('MAIL FROM:<alice@sender.test>')), '503 5.5.1');
    wire.close();
  }],
  ['an unknown command: 500 5.5.2', async ({ command }) => assert.equal(await command('FROB nicate'), '500 5.5.2')],
  ['ten unknown commands: the tenth is followed by 421 4.7.0 and the end of the session', async ({ code, session }) => {
    const wire = await session();
    for (let i = 0; i < 9; i++) assert.equal(code(await wire.send(`JUNK${i}`)), '500 5.5.2');
    wire.socket.write('JUNK9\r\n');
    await wire.closed;
    assert.deepEqual(wire.replies.slice(-2).map(code), ['500 5.5.2', '421 4.7.0']);
  }],
  ['AUTH, XCLIENT and XFORWARD, which an MX does not offer: 500 5.5.2', async ({ command }) => {
    for (const line of ['AUTH PLAIN AGFsaWNlAHNlY3JldA==', 'XCLIENT ADDR=10.0.0.1', 'XFORWARD ADDR=10.0.0.1']) assert.equal(await command(line), '500 5.5.2', line);
  }],
  ['STARTTLS when no certificate is configured: 500 5.5.2, and not advertised', async ({ port, code }) => {
    const wire = await Wire.open(port);
    assert.doesNotMatch((await wire.send('EHLO client.sender.test'))!.text, /STARTTLS/);
    assert.equal(code(await wire.send('STARTTLS')), '500 5.5.2');
    wire.close();
  }],
  ['VRFY and EXPN reveal nothing: 252 2.1.5 and 500 5.5.2', async ({ command }) => {
    assert.equal(await command('VRFY postmaster'), '252 2.1.5');
    assert.equal(await command('EXPN staff'), '500 5.5.2');
  }],
  ['lower-case and extra-spaced commands are understood', async ({ port }) => {
    const wire = await Wire.open(port);
    assert.equal((await wire.send('ehlo client.sender.test'))?.code, 250);
    assert.equal((await wire.send('mail from:<alice@sender.test>'))?.code, 250);
    assert.equal((await wire.send('rcpt to: <lower@example.test>'))?.code, 250);
    wire.close();
  }],
  ['a 1,500-octet command line (over RFC 5321’s 512, within MXPOST_MAX_COMMAND_BYTES): answered normally', async ({ command }) => assert.equal(await command(`NOOP ${'x'.repeat(1500)}`), '250 2.0.0')],
  ['a 3,000-octet command line: 421, closed', async ({ code, session }) => {
    const wire = await session();
    assert.equal(code(await wire.send(`RCPT TO:<${'a'.repeat(3000)}@example.test>`)), '421 4.4.2');
    await wire.closed;
  }],
  ['100 KB without a line end: 421, closed, nothing buffered past the limit', async ({ code, session }) => {
    const wire = await session();
    wire.socket.write('X'.repeat(100_000));
    await wire.closed;
    assert.equal(code(wire.last), '421 4.4.2');
  }],
  // Addresses.
  ['MAIL FROM without angle brackets: 501 5.1.7', async ({ command }) => assert.equal(await command('MAIL FROM:alice@sender.test'), '501 5.1.7')],
  ['RCPT TO without angle brackets, empty, or only a domain: 501 5.1.3', async ({ code, session }) => {
    const wire = await session();
    await wire.send('MAIL FROM:<alice@sender.test>');
    for (const rcpt of ['RCPT TO:x@example.test', 'RCPT TO:<>', 'RCPT TO:<@example.test>', 'RCPT TO:<x@>']) assert.equal(code(await wire.send(rcpt)), '501 5.1.3', rcpt);
    wire.close();
  }],
  ['an address with a NUL or a control character: 501', async ({ code, session }) => {
    const wire = await session();
    assert.equal(code(await wire.send('MAIL FROM:<ali\x00ce@sender.test>')), '501 5.1.7');
    await wire.send('MAIL FROM:<alice@sender.test>');
    assert.equal(code(await wire.send('RCPT TO:<x\x1b@example.test>')), '501 5.1.3');
    wire.close();
  }],
  ['an address longer than RFC 5321’s 256-octet path: 501 5.1.3', async ({ code, session }) => {
    const wire = await session();
    await wire.send('MAIL FROM:<alice@sender.test>');
    assert.equal(code(await wire.send(`RCPT TO:<${'l'.repeat(64)}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.example.test>`)), '501 5.1.3');
    wire.close();
  }],
  ['a UTF-8 local part (SMTPUTF8) for a configured domain: accepted', async ({ code, session }) => {
    const wire = await session();
    await wire.send('MAIL FROM:<alice@sender.test> SMTPUTF8');
    assert.equal(code(await wire.send(Buffer.from('RCPT TO:<jürgen@example.test>\r\n'))), '250 2.1.5');
    wire.close();
  }],
  ['a null sender (a bounce) is accepted: 250', async ({ command }) => assert.equal(await command('MAIL FROM:<>'), '250 2.1.0')],
  ['a malformed SIZE= or BODY= parameter: 501 5.5.4', async ({ command }) => {
    assert.equal(await command('MAIL FROM:<alice@sender.test> SIZE=lots'), '501 5.5.4');
    assert.equal(await command('MAIL FROM:<alice@sender.test> BODY=BINARYMIME'), '501 5.5.4');
  }],
];

badInputSuite('bad input: commands and addresses', CASES);
