import { isIPv4 } from 'node:net';

/** A PROXY v1 line as HAProxy writes it. */
export function proxyV1(address: string, port: number, destination = isIPv4(address) ? '10.0.0.2' : '2001:db8::2'): Buffer {
  return Buffer.from(`PROXY ${isIPv4(address) ? 'TCP4' : 'TCP6'} ${address} ${destination} ${port} 25\r\n`);
}

/** A PROXY v2 PROXY-command header over TCP, as an AWS Network Load Balancer sends it. */
export function proxyV2(address: string, port: number, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const v4 = isIPv4(address);
  const addresses = v4 ? Buffer.alloc(12) : Buffer.alloc(36);
  if (v4) {
    address.split('.').forEach((octet, i) => addresses.writeUInt8(Number(octet), i));
    addresses.set([10, 0, 0, 2], 4);
    addresses.writeUInt16BE(port, 8);
    addresses.writeUInt16BE(25, 10);
  } else {
    expand(address).forEach((group, i) => addresses.writeUInt16BE(group, i * 2));
    addresses.writeUInt16BE(port, 32);
    addresses.writeUInt16BE(25, 34);
  }
  const header = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, v4 ? 0x11 : 0x21, 0, 0]);
  header.writeUInt16BE(addresses.length + tlvs.length, 14);
  return Buffer.concat([header, addresses, tlvs]);
}

function expand(ip: string): number[] {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}
