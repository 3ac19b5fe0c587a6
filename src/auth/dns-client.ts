import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP, connect as connectTcp } from 'node:net';
import * as dnsPacket from 'dns-packet';

/**
 * A DNS stub client: one question to a recursive resolver over UDP, retried over
 * TCP when the answer is truncated. It exists because Node's resolver reports a
 * TTL only for A and AAAA, and the cache must keep every answer (SPF and DMARC
 * TXT records, DKIM keys, negative answers) no longer than its TTL.
 *
 * Spoofed answers are discarded: each query uses a fresh socket (a random source
 * port), a random id, and a reply counts only if it comes from the server asked,
 * is a response, and repeats the question.
 */

/** A recursive resolver to ask. */
export interface DnsServerAddress {
  readonly host: string;
  readonly port: number;
}

/** The error codes of Node's resolver, which mailauth reads. */
export type DnsErrorCode = 'ENOTFOUND' | 'ENODATA' | 'ETIMEOUT' | 'ESERVFAIL' | 'EREFUSED' | 'ECONNREFUSED' | 'EBADNAME' | 'EBADRESP' | 'ENOTIMP';

export class DnsError extends Error {
  override readonly name = 'DnsError';
  readonly code: DnsErrorCode;
  /** For ENOTFOUND and ENODATA: how long the negative answer may be cached (RFC 2308), in seconds. */
  readonly negativeTtl: number;
  constructor(code: DnsErrorCode, message: string, negativeTtl = 0) {
    super(message);
    this.code = code;
    this.negativeTtl = negativeTtl;
  }
}

/** The record types mxpost asks for, answered in the shapes of `dns.promises.resolve`. */
export type RecordType = 'A' | 'AAAA' | 'TXT' | 'MX' | 'PTR' | 'CNAME';
export type Records = string[] | string[][] | { exchange: string; priority: number }[];

export interface DnsAnswer {
  readonly records: Records;
  /** The smallest TTL in the answer, CNAMEs included, in seconds. */
  readonly ttl: number;
}

const SUPPORTED = new Set<string>(['A', 'AAAA', 'TXT', 'MX', 'PTR', 'CNAME']);
// RFC 8020-era advice (DNS flag day 2020): 1232 bytes avoids IP fragmentation.
const EDNS_UDP_SIZE = 1232;
const MAX_TCP_MESSAGE = 65_535;

/** Asks `servers` in turn (each at least once, a single server twice) until one answers within `timeoutMs`. */
export function createDnsClient(options: { servers: readonly DnsServerAddress[]; timeoutMs: number }) {
  const { servers, timeoutMs } = options;
  if (servers.length === 0) throw new Error('createDnsClient: no DNS servers');
  const attempts = Math.max(2, Math.min(servers.length, 4));
  let next = 0;

  return async function query(name: string, type: RecordType): Promise<DnsAnswer> {
    const qname = checkName(name);
    if (!SUPPORTED.has(type)) throw new DnsError('ENOTIMP', `record type ${type} is not supported`);
    const deadline = Date.now() + timeoutMs;
    let failure: DnsError = new DnsError('ETIMEOUT', `DNS query for ${type} ${qname} timed out`);
    // Rotate the first server between queries, so that one dead server costs each query at most one try.
    const first = next++ % servers.length;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const server = servers[(first + attempt) % servers.length]!;
      const id = randomInt(0, 65_536);
      const question = { type, name: qname, class: 'IN' as const };
      try {
        let response = await exchangeUdp(server, encodeQuery(id, question), id, question, remaining / (attempts - attempt));
        if (response.flag_tc) response = await exchangeTcp(server, encodeQuery(id, question), id, question, deadline - Date.now());
        return interpret(response, type, qname);
      } catch (err) {
        if (!(err instanceof DnsError)) throw err;
        // A negative answer is an answer; anything else may go better at the next server.
        if (err.code === 'ENOTFOUND' || err.code === 'ENODATA') throw err;
        failure = err;
      }
    }
    throw failure;
  };
}

/** Validates and normalises a name the way c-ares does: EBADNAME rather than a malformed packet. */
function checkName(name: string): string {
  const qname = name.replace(/\.$/, '');
  const labels = qname.split('.');
  const octets = Buffer.byteLength(qname);
  if (qname === '' || octets > 253 || labels.some((l) => l === '' || Buffer.byteLength(l) > 63)) {
    throw new DnsError('EBADNAME', `not a valid domain name: ${JSON.stringify(name)}`);
  }
  return qname;
}

function encodeQuery(id: number, question: dnsPacket.Question): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [question],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
}

/** Whether a datagram or TCP message is the answer to our question; anything else is ignored. */
function matches(response: dnsPacket.DecodedPacket, id: number, question: dnsPacket.Question): boolean {
  const echoed = response.questions?.[0];
  return (
    response.id === id &&
    response.flag_qr &&
    echoed !== undefined &&
    echoed.type === question.type &&
    echoed.name.toLowerCase() === question.name.toLowerCase()
  );
}

function tryDecode(message: Buffer): dnsPacket.DecodedPacket | null {
  try {
    return dnsPacket.decode(message);
  } catch {
    return null;
  }
}

function exchangeUdp(server: DnsServerAddress, query: Buffer, id: number, question: dnsPacket.Question, timeoutMs: number) {
  return new Promise<dnsPacket.DecodedPacket>((resolve, reject) => {
    const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.on('error', () => undefined);
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      fn();
    };
    const timer = setTimeout(() => done(() => reject(timeout(question))), Math.max(1, timeoutMs));
    // A connected socket receives only from the server, and learns of a closed
    // port (ICMP unreachable) as ECONNREFUSED instead of waiting for the timeout.
    socket.on('error', (err: NodeJS.ErrnoException) =>
      done(() => reject(new DnsError(err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'ESERVFAIL', `DNS server ${describe(server)}: ${err.message}`))),
    );
    socket.on('message', (message: Buffer) => {
      const response = tryDecode(message);
      if (response && matches(response, id, question)) done(() => resolve(response));
    });
    socket.connect(server.port, server.host, () => socket.send(query));
  });
}

function exchangeTcp(server: DnsServerAddress, query: Buffer, id: number, question: dnsPacket.Question, timeoutMs: number) {
  return new Promise<dnsPacket.DecodedPacket>((resolve, reject) => {
    const socket = connectTcp({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(timeout(question))), Math.max(1, timeoutMs));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      done(() => reject(new DnsError(err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'ESERVFAIL', `DNS server ${describe(server)}: ${err.message}`))),
    );
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_TCP_MESSAGE + 2) return done(() => reject(new DnsError('EBADRESP', 'DNS answer too long')));
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
      const response = tryDecode(received.subarray(2, 2 + received.readUInt16BE(0)));
      done(() => (response && matches(response, id, question) ? resolve(response) : reject(new DnsError('EBADRESP', 'DNS answer does not match the question'))));
    });
    socket.on('end', () => done(() => reject(new DnsError('EBADRESP', `DNS server ${describe(server)} closed the connection`))));
  });
}

function interpret(response: dnsPacket.DecodedPacket, type: RecordType, name: string): DnsAnswer {
  const rcode = (response as unknown as { rcode: string }).rcode;
  if (rcode === 'NXDOMAIN') throw new DnsError('ENOTFOUND', `${name} does not exist`, negativeTtl(response));
  if (rcode === 'SERVFAIL') throw new DnsError('ESERVFAIL', `DNS server failed to answer ${type} ${name}`);
  if (rcode === 'REFUSED') throw new DnsError('EREFUSED', `DNS server refused ${type} ${name}`);
  if (rcode !== 'NOERROR') throw new DnsError('EBADRESP', `DNS answer ${rcode} for ${type} ${name}`);
  const answers = (response.answers ?? []).filter((a) => a.type !== 'OPT');
  const matching = answers.filter((a) => a.type === type && ((a as { class?: string }).class ?? 'IN') === 'IN');
  if (matching.length === 0) throw new DnsError('ENODATA', `${name} has no ${type} record`, negativeTtl(response));
  const ttl = Math.min(...answers.map((a) => (a as { ttl?: number }).ttl ?? 0));
  return { records: convert(type, matching), ttl };
}

function convert(type: RecordType, answers: dnsPacket.Answer[]): Records {
  switch (type) {
    case 'TXT':
      return answers.map((a) => ([] as (string | Buffer)[]).concat((a as dnsPacket.TxtAnswer).data).map((s) => s.toString()));
    case 'MX':
      return answers.map((a) => {
        const data = (a as dnsPacket.MxAnswer).data;
        return { exchange: data.exchange, priority: data.preference ?? 0 };
      });
    default:
      return answers.map((a) => String((a as dnsPacket.StringAnswer).data));
  }
}

/** RFC 2308 section 5: the SOA's own TTL or its minimum field, whichever is less; 0 without one. */
function negativeTtl(response: dnsPacket.DecodedPacket): number {
  const soa = (response.authorities ?? []).find((a): a is dnsPacket.SoaAnswer => a.type === 'SOA');
  return soa ? Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0) : 0;
}

function timeout(question: dnsPacket.Question): DnsError {
  return new DnsError('ETIMEOUT', `DNS query for ${question.type} ${question.name} timed out`);
}

function describe(server: DnsServerAddress): string {
  return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}
