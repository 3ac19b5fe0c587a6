import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyHeader, V2_MAX_PAYLOAD } from '../../src/smtp/proxy-protocol.ts';
import { proxyV1, proxyV2 } from './proxy-headers.ts';

test('reads a v1 TCP4 and TCP6 line and says where the client is', () => {
  assert.deepEqual(parseProxyHeader(proxyV1('203.0.113.7', 40001), 'v1'), {
    state: 'done',
    peer: { kind: 'proxied', address: '203.0.113.7', port: 40001 },
    length: proxyV1('203.0.113.7', 40001).length,
  });
  const v6 = parseProxyHeader(Buffer.from('PROXY TCP6 2001:0db8:0:0:0:0:0:0001 2001:db8::2 5000 25\r\nEHLO'), 'auto');
  assert.equal(v6.state, 'done');
  assert.deepEqual(v6.state === 'done' && v6.peer, { kind: 'proxied', address: '2001:db8::1', port: 5000 });
});

test('reads v2 TCP4 and TCP6 headers, skipping TLVs such as the AWS VPC endpoint id', () => {
  const tlv = Buffer.concat([Buffer.from([0xea, 0x00, 0x16, 0x01]), Buffer.from('vpce-0123456789abcdef0')]);
  const header = proxyV2('198.51.100.9', 51515, tlv);
  assert.deepEqual(parseProxyHeader(Buffer.concat([header, Buffer.from('QUIT\r\n')]), 'v2'), {
    state: 'done',
    peer: { kind: 'proxied', address: '198.51.100.9', port: 51515 },
    length: header.length,
  });
  const v6 = parseProxyHeader(proxyV2('2001:db8::77', 443), 'auto');
  assert.deepEqual(v6.state === 'done' && v6.peer, { kind: 'proxied', address: '2001:db8::77', port: 443 });
});

test('a v2 LOCAL command and a v1 UNKNOWN line keep the connection’s own address', () => {
  const local = Buffer.from(proxyV2('10.0.0.1', 1));
  local[12] = 0x20;
  assert.deepEqual(parseProxyHeader(local, 'v2'), { state: 'done', peer: { kind: 'local' }, length: local.length });
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'), 'v1'), { state: 'done', peer: { kind: 'local' }, length: 15 });
});

test('waits for more bytes while a header is only partly there, at every length', () => {
  for (const header of [proxyV1('192.0.2.1', 1234), proxyV2('192.0.2.1', 1234)]) {
    for (let n = 0; n < header.length; n++) assert.deepEqual(parseProxyHeader(header.subarray(0, n), 'auto'), { state: 'incomplete' }, `${n} bytes`);
  }
});

test('refuses what is not a valid header for the configured version', () => {
  const invalid = (data: Buffer | string, mode: 'v1' | 'v2' | 'auto' = 'auto') => {
    const result = parseProxyHeader(Buffer.isBuffer(data) ? data : Buffer.from(data), mode);
    assert.equal(result.state, 'invalid', `${JSON.stringify(data.toString())} in ${mode}`);
  };
  invalid('EHLO client.example\r\n');
  invalid('GET / HTTP/1.1\r\n');
  invalid('PROXY TCP4 999.1.1.1 10.0.0.1 1 2\r\n');
  invalid('PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n');
  invalid('PROXY TCP4 192.0.2.1 10.0.0.1 70000 25\r\n');
  invalid('PROXY TCP4 192.0.2.1 10.0.0.1 1 2\n');
  invalid('PROXY TCP4  192.0.2.1 10.0.0.1 1 2\r\n');
  invalid(`PROXY TCP4 ${'1'.repeat(120)}`);
  invalid(proxyV1('192.0.2.1', 1), 'v2');
  invalid(proxyV2('192.0.2.1', 1), 'v1');
  const badVersion = Buffer.from(proxyV2('192.0.2.1', 1));
  badVersion[12] = 0x11;
  invalid(badVersion);
  const udp = Buffer.from(proxyV2('192.0.2.1', 1));
  udp[13] = 0x12;
  invalid(udp);
  const huge = Buffer.from(proxyV2('192.0.2.1', 1));
  huge.writeUInt16BE(V2_MAX_PAYLOAD + 1, 14);
  invalid(huge);
  const short = Buffer.from(proxyV2('192.0.2.1', 1));
  short.writeUInt16BE(4, 14);
  invalid(short.subarray(0, 20));
});
