import { BlockList, isIP, SocketAddress } from 'node:net';

/**
 * Client IP addresses as the receiver compares and reports them: an IPv4 peer of
 * a dual-stack listener (`::ffff:192.0.2.1`) is its IPv4 address, and IPv6 is in
 * its canonical compressed form, so that one client is one key whatever path its
 * address took (the socket, a PROXY v1 line, PROXY v2 bytes).
 */
export function canonicalIp(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) === 6) return new SocketAddress({ address, family: 'ipv6' }).address;
  return address;
}

/**
 * The key that per-client connection limits count by: the IPv4 address, or the
 * /64 of an IPv6 address, because one IPv6 client usually holds a whole /64 and
 * would otherwise get a fresh allowance from each of its 2^64 addresses.
 */
export function clientKey(address: string): string {
  const ip = canonicalIp(address);
  if (isIP(ip) !== 6) return ip;
  const groups = expandIpv6(ip);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(ip: string): string[] {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...fill, ...right];
}

/** The address ranges whose connections may carry a PROXY protocol header. */
export interface TrustedProxies {
  readonly ranges: readonly string[];
  has(address: string): boolean;
}

/**
 * Reads `MXPOST_PROXY_TRUSTED`: CIDRs or single addresses, separated by commas or
 * spaces (`10.0.0.0/8, 192.168.1.7, fd00::/8`). Throws with the entry that is wrong.
 */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  const ranges: string[] = [];
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    const badPrefix = prefixText !== undefined && (!/^\d{1,3}$/.test(prefixText) || prefix > max);
    if (family === 0 || extra !== undefined || badPrefix) {
      throw new Error(`"${entry}" is not an IP address or CIDR range`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    ranges.push(`${address}/${prefix}`);
  }
  return {
    ranges,
    has(address: string) {
      const ip = canonicalIp(address);
      const family = isIP(ip);
      return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
