import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';

/**
 * A real authoritative DNS server on loopback, over UDP and TCP on one free port,
 * for the auth tests. Its zone uses the record notation of the RFC 7208 test suite
 * (`{ TXT: "v=spf1 -all" }`, `{ MX: [10, "mx.example.com"] }`, `"TIMEOUT"`), so the
 * suite's `zonedata` loads as it is, with the same conventions as its reference
 * driver (pyspf's testspf.py):
 *
 * - a name whose list has `"TIMEOUT"` before any record of the asked type never
 *   answers (the client times out); `{ TXT: "TIMEOUT" }` does that for one type;
 * - SPF (type 99) records are also served as TXT when the name has no TXT entry;
 *   `{ TXT: "NONE" }` means "no TXT" and stops that;
 * - a CNAME is answered with the target's records of the asked type, one level deep;
 * - a name that is not in the zone is NXDOMAIN, a known name without the type NODATA.
 *
 * Names are matched case-insensitively. Every record carries `ttl` (default 300).
 * Answers larger than 512 bytes (or the client's EDNS size) are truncated over UDP,
 * so that clients must retry over TCP, as a real server makes them.
 */

export type RecordSpec =
  | 'TIMEOUT'
  | 'SERVFAIL'
  | { A: string; ttl?: number }
  | { AAAA: string; ttl?: number }
  | { TXT: string | string[]; ttl?: number }
  | { SPF: string | string[]; ttl?: number }
  | { MX: [number, string]; ttl?: number }
  | { PTR: string; ttl?: number }
  | { CNAME: string; ttl?: number };

export type Zone = Record<string, RecordSpec[]>;

export interface DnsServer {
  /** `127.0.0.1:port`, the form MXPOST_DNS_SERVERS takes. */
  readonly address: string;
  readonly port: number;
  /** Every question received, in order, answered or not: `TXT example.com`. */
  readonly queries: string[];
  /** Adds (or replaces) the records of the names given. */
  load(zone: Zone): void;
  /** Replaces the whole zone. */
  reset(zone?: Zone): void;
  /** Answers nothing at all (every query times out) until resumed. */
  mute(muted: boolean): void;
  /** Answers every query this many milliseconds late, as a distant resolver would. */
  delay(ms: number): void;
  /** Closes both sockets; later queries are refused by the kernel. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_TTL = 300;
// NOERROR 0, SERVFAIL 2, NXDOMAIN 3, as the low four bits of the header flags.
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

type Reply = { rcode: number; answers: dnsPacket.Answer[] } | 'drop';

export async function startDnsServer(initial: Zone = {}): Promise<DnsServer> {
  let zone = new Map<string, RecordSpec[]>();
  let muted = false;
  let delayMs = 0;
  const later = (send: () => void) => (delayMs > 0 ? setTimeout(send, delayMs) : send());
  const queries: string[] = [];
  const load = (more: Zone) => {
    for (const [name, records] of Object.entries(more)) zone.set(normalize(name), records);
  };
  load(initial);

  function answer(name: string, type: string, followCname = true): Reply {
    const records = zone.get(normalize(name));
    if (!records) return { rcode: RCODE.NXDOMAIN, answers: [] };
    const answers: dnsPacket.Answer[] = [];
    const generated: dnsPacket.Answer[] = [];
    const hasTxt = records.some((r) => typeof r === 'object' && 'TXT' in r);
    for (const record of records) {
      if (record === 'TIMEOUT') {
        if (answers.length === 0) return 'drop';
        continue;
      }
      if (record === 'SERVFAIL') return { rcode: RCODE.SERVFAIL, answers: [] };
      const [recordType, value] = Object.entries(record).find(([key]) => key !== 'ttl')! as [string, unknown];
      const ttl = record.ttl ?? DEFAULT_TTL;
      if (value === 'TIMEOUT' && recordType === type) return 'drop';
      if (value === 'NONE' || value === 'TIMEOUT') continue;
      // pyspf adds the TXT copies after the name's own entries, so a TIMEOUT wins.
      if (recordType === 'SPF' && type === 'TXT' && !hasTxt) {
        generated.push(toAnswer(name, 'TXT', value, ttl));
        continue;
      }
      if (recordType === 'CNAME' && type !== 'CNAME') {
        answers.push({ type: 'CNAME', name, ttl, data: String(value) });
        // One level, as testspf.py does: a CNAME loop must not loop here.
        const target = followCname ? answer(String(value), type, false) : 'drop';
        if (target !== 'drop') answers.push(...target.answers.filter((a) => a.type !== 'CNAME'));
        continue;
      }
      if (recordType !== type) continue;
      answers.push(toAnswer(name, type, value, ttl));
    }
    return { rcode: RCODE.NOERROR, answers: [...answers, ...generated] };
  }

  function respond(query: Buffer, maxSize: number | null): Buffer | null {
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(query);
    } catch {
      return null;
    }
    const question = packet.questions?.[0];
    if (!question) return null;
    queries.push(`${question.type} ${question.name}`);
    if (muted) return null;
    const reply = answer(question.name, question.type);
    if (reply === 'drop') return null;
    const edns = (packet.additionals ?? []).find((a): a is dnsPacket.OptAnswer => a.type === 'OPT');
    const response = (answers: dnsPacket.Answer[], truncated: boolean) =>
      dnsPacket.encode({
        type: 'response',
        id: packet.id ?? 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | reply.rcode,
        questions: [question],
        answers,
        // The SOA whose minimum gives the negative-caching TTL (RFC 2308).
        authorities: reply.answers.length === 0 ? [soa(question.name)] : [],
      });
    const full = response(reply.answers, false);
    const limit = maxSize === null ? Infinity : Math.max(512, edns?.udpPayloadSize ?? 512);
    return full.length <= limit ? full : response([], true);
  }

  const onDatagram = (udp: UdpSocket, message: Buffer, peer: RemoteInfo) => {
    const reply = respond(message, 512);
    if (!reply) return;
    later(() => {
      try {
        udp.send(reply, peer.port, peer.address, () => undefined);
      } catch {
        // Stopped while the answer was delayed.
      }
    });
  };

  const connections = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const reply = respond(buffered.subarray(2, 2 + length), null);
        buffered = buffered.subarray(2 + length);
        if (reply) later(() => socket.writable && socket.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply])));
      }
    });
  };

  // UDP and TCP on one port: the UDP port is free, the same TCP port may not be.
  // Try again then, and close what was opened, or the test process never exits.
  let udp: UdpSocket | undefined;
  let tcp: Server | undefined;
  for (let tries = 0; !tcp; tries++) {
    const datagrams = createSocket('udp4');
    datagrams.on('message', (message: Buffer, peer: RemoteInfo) => onDatagram(datagrams, message, peer));
    datagrams.bind(0, '127.0.0.1');
    await once(datagrams, 'listening');
    const stream = createServer(onConnection);
    try {
      stream.listen(datagrams.address().port, '127.0.0.1');
      await once(stream, 'listening');
      [udp, tcp] = [datagrams, stream];
    } catch (err) {
      datagrams.close();
      if (tries >= 10) throw err;
    }
  }
  const port = udp!.address().port;

  let stopping: Promise<void> | null = null;
  return {
    address: `127.0.0.1:${port}`,
    port,
    queries,
    load,
    reset(next = {}) {
      zone = new Map();
      load(next);
    },
    mute(value) {
      muted = value;
    },
    delay(ms) {
      delayMs = ms;
    },
    stop() {
      stopping ??= (async () => {
        for (const socket of connections) socket.destroy();
        await Promise.all([new Promise<void>((resolve) => udp!.close(() => resolve())), new Promise<void>((resolve) => tcp!.close(() => resolve()))]);
      })();
      return stopping;
    },
  };
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function toAnswer(name: string, type: string, value: unknown, ttl: number): dnsPacket.Answer {
  switch (type) {
    case 'TXT': {
      // One character-string holds at most 255 bytes; longer text is split, as publishers do.
      const strings = ([] as string[]).concat(value as string | string[]).flatMap((s) => chunk(Buffer.from(s, 'utf8'), 255));
      return { type: 'TXT', name, ttl, data: strings };
    }
    case 'MX': {
      const [preference, exchange] = value as [number, string];
      return { type: 'MX', name, ttl, data: { preference, exchange } };
    }
    default:
      return { type: type as 'A', name, ttl, data: String(value) };
  }
}

function chunk(bytes: Buffer, size: number): Buffer[] {
  if (bytes.length === 0) return [bytes];
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return parts;
}

function soa(name: string): dnsPacket.Answer {
  const zoneName = normalize(name).split('.').slice(-2).join('.') || '.';
  return {
    type: 'SOA',
    name: zoneName,
    ttl: 60,
    data: { mname: `ns.${zoneName}`, rname: `hostmaster.${zoneName}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 30 },
  };
}
