import { isIPv4, isIPv6, type Socket } from 'node:net';
import { canonicalIp } from './addresses.ts';

/**
 * The PROXY protocol (HAProxy's spec, versions 1 and 2), read in front of
 * smtp-server, which only knows v1, while AWS's Network Load Balancers send only
 * v2. `auto` accepts either; the two cannot be confused, v1 starts with "PROXY "
 * and v2 with a 12-byte binary signature.
 */
export type ProxyMode = 'off' | 'v1' | 'v2' | 'auto';

/**
 * Where the connection really comes from. `local`: the proxy speaks for itself
 * (v2 LOCAL, v1 UNKNOWN, e.g. a load balancer's health check), so the socket's own
 * address stands, as the spec says.
 */
export type ProxiedPeer = { readonly kind: 'proxied'; readonly address: string; readonly port: number } | { readonly kind: 'local' };

export type ProxyParse =
  | { readonly state: 'incomplete' }
  | { readonly state: 'invalid'; readonly reason: string }
  | { readonly state: 'done'; readonly peer: ProxiedPeer; readonly length: number };

const V1_PREFIX = Buffer.from('PROXY ');
// The spec's own bound for a v1 line, CRLF included.
const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
// A v2 header may announce up to 64 KiB of TLVs; real load balancers send a few
// dozen bytes (AWS: the VPC endpoint id). Never buffer more than this from a peer.
export const V2_MAX_PAYLOAD = 2048;

/** Parses the start of a connection's bytes. Pure: the socket handling is below. */
export function parseProxyHeader(data: Buffer, mode: Exclude<ProxyMode, 'off'>): ProxyParse {
  if (data.length === 0) return { state: 'incomplete' };
  const v2 = isPrefix(data, V2_SIGNATURE);
  const v1 = isPrefix(data, V1_PREFIX);
  if (v2 && mode !== 'v1') return parseV2(data);
  if (v1 && mode !== 'v2') return parseV1(data);
  return { state: 'invalid', reason: v1 || v2 ? `a PROXY ${v1 ? 'v1' : 'v2'} header where ${mode} is configured` : 'no PROXY header' };
}

/** True when `data` and `prefix` agree on their common length. */
function isPrefix(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(data: Buffer): ProxyParse {
  const lf = data.indexOf(0x0a);
  if (lf >= 0 && data[lf - 1] !== 0x0d) return { state: 'invalid', reason: 'PROXY v1 line not ended by CRLF' };
  const end = lf - 1;
  if (lf < 0) return data.length >= V1_MAX ? { state: 'invalid', reason: 'PROXY v1 line too long' } : { state: 'incomplete' };
  if (end + 2 > V1_MAX) return { state: 'invalid', reason: 'PROXY v1 line too long' };
  const line = data.subarray(0, end).toString('latin1');
  const length = end + 2;
  if (/^PROXY UNKNOWN( [\x21-\x7e ]*)?$/.test(line)) return { state: 'done', peer: { kind: 'local' }, length };
  const match = /^PROXY (TCP4|TCP6) (\S+) (\S+) (\d{1,5}) (\d{1,5})$/.exec(line);
  if (!match) return { state: 'invalid', reason: 'malformed PROXY v1 line' };
  const [, family, source, destination, sourcePort, destinationPort] = match as unknown as [string, string, string, string, string, string];
  const valid = family === 'TCP4' ? isIPv4 : isIPv6;
  if (!valid(source) || !valid(destination)) return { state: 'invalid', reason: `PROXY v1 addresses are not ${family}` };
  if (!isPort(sourcePort) || !isPort(destinationPort)) return { state: 'invalid', reason: 'PROXY v1 port out of range' };
  return { state: 'done', peer: { kind: 'proxied', address: canonicalIp(source), port: Number(sourcePort) }, length };
}

function isPort(text: string): boolean {
  return !/^0\d/.test(text) && Number(text) <= 65535;
}

function parseV2(data: Buffer): ProxyParse {
  if (data.length < 16) return { state: 'incomplete' };
  const versionCommand = data[12]!;
  const familyTransport = data[13]!;
  const payload = data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return { state: 'invalid', reason: 'PROXY v2 header with another version' };
  if (payload > V2_MAX_PAYLOAD) return { state: 'invalid', reason: `PROXY v2 header longer than ${V2_MAX_PAYLOAD} bytes` };
  if (data.length < 16 + payload) return { state: 'incomplete' };
  const length = 16 + payload;
  const command = versionCommand & 0x0f;
  if (command === 0x0) return { state: 'done', peer: { kind: 'local' }, length };
  if (command !== 0x1) return { state: 'invalid', reason: 'PROXY v2 header with an unknown command' };
  const body = data.subarray(16, length);
  switch (familyTransport) {
    case 0x11: {
      if (payload < 12) return { state: 'invalid', reason: 'PROXY v2 TCP4 header too short' };
      const address = `${body[0]}.${body[1]}.${body[2]}.${body[3]}`;
      return { state: 'done', peer: { kind: 'proxied', address, port: body.readUInt16BE(8) }, length };
    }
    case 0x21: {
      if (payload < 36) return { state: 'invalid', reason: 'PROXY v2 TCP6 header too short' };
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
      return { state: 'done', peer: { kind: 'proxied', address: canonicalIp(groups.join(':')), port: body.readUInt16BE(32) }, length };
    }
    case 0x00:
      // UNSPEC: the spec says to accept it and use the real connection's endpoints.
      return { state: 'done', peer: { kind: 'local' }, length };
    default:
      return { state: 'invalid', reason: `PROXY v2 family/transport 0x${familyTransport.toString(16)} is not TCP` };
  }
}

export class ProxyHeaderError extends Error {
  override readonly name = 'ProxyHeaderError';
}

/**
 * Reads the PROXY header off a freshly accepted socket, hands back whatever the
 * client sent after it (unshifted, so smtp-server reads it first), and rejects if
 * the header is invalid, the peer leaves, or nothing complete arrives within
 * `timeoutMs`. SMTP is server-speaks-first, so the header is all there is to read.
 */
export function readProxyHeader(socket: Socket, mode: Exclude<ProxyMode, 'off'>, timeoutMs: number): Promise<ProxiedPeer> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (error: Error | null, peer?: ProxiedPeer) => {
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onError);
      if (error) reject(error);
      else resolve(peer!);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
        const result = parseProxyHeader(buffered, mode);
        if (result.state === 'incomplete') continue;
        if (result.state === 'invalid') return finish(new ProxyHeaderError(result.reason));
        const rest = buffered.subarray(result.length);
        if (rest.length) socket.unshift(rest);
        return finish(null, result.peer);
      }
    };
    const onEnd = () => finish(new ProxyHeaderError('connection closed before a complete PROXY header'));
    const onError = (err: Error) => finish(new ProxyHeaderError(`connection failed before a complete PROXY header: ${err.message}`));
    const timer = setTimeout(() => finish(new ProxyHeaderError(`no complete PROXY header within ${timeoutMs} ms`)), timeoutMs);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}
