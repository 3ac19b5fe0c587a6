import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import { createTtlCache, DEFAULT_CACHE_LIMITS, type CacheLimits } from './dns-cache.ts';
import { createDnsClient, DnsError, type DnsAnswer, type DnsErrorCode, type DnsServerAddress, type Records, type RecordType } from './dns-client.ts';

/**
 * The DNS resolver that every authentication check uses: the servers of
 * MXPOST_DNS_SERVERS (or the system's, from /etc/resolv.conf), a timeout on every
 * lookup, and one bounded TTL cache for the whole process. Its `resolve` has the
 * shape of mailauth's `resolver` option (and of `dns.promises.resolve`): records
 * on success, an error with Node's `code` (ENOTFOUND, ENODATA, ETIMEOUT, …) on
 * failure, which mailauth turns into none/neutral or temperror verdicts.
 */
export interface Resolver {
  resolve(name: string, type: string): Promise<Records>;
  /** Lookups asked for, and how many of them the cache (or a lookup in flight) answered. */
  readonly stats: { readonly lookups: number; readonly cacheHits: number };
}

export interface ResolverOptions {
  /** Recursive resolvers to ask; null: the system's. */
  readonly servers: readonly DnsServerAddress[] | null;
  /** Deadline of one lookup, all retries included. */
  readonly timeoutMs: number;
  readonly cacheLimits?: CacheLimits;
  /** The clock of the cache, in milliseconds. */
  readonly now?: () => number;
}

type Cached = { readonly answer: DnsAnswer } | { readonly error: { code: DnsErrorCode; message: string } };

export function createResolver(options: ResolverOptions): Resolver {
  const servers = options.servers ?? systemServers();
  const query = createDnsClient({ servers, timeoutMs: options.timeoutMs });
  const cache = createTtlCache<Cached>(options.cacheLimits ?? DEFAULT_CACHE_LIMITS, options.now ?? Date.now);
  // Concurrent lookups of one name (SPF and DMARC asking for the same TXT, two
  // sessions from one sender) share one query.
  const inFlight = new Map<string, Promise<Cached>>();
  const stats = { lookups: 0, cacheHits: 0 };

  async function lookup(key: string, name: string, type: RecordType): Promise<Cached> {
    try {
      const answer = await query(name, type);
      const result = { answer: { ...answer, records: deepFreeze(answer.records) } };
      cache.set(key, result, answer.ttl, key.length + JSON.stringify(answer.records).length);
      return result;
    } catch (err) {
      if (!(err instanceof DnsError)) throw err;
      const result = { error: { code: err.code, message: err.message } };
      // Negative answers are cached for their SOA's negative TTL; failures are not cached at all.
      if (err.code === 'ENOTFOUND' || err.code === 'ENODATA') cache.set(key, result, err.negativeTtl, key.length + err.message.length);
      return result;
    }
  }

  return {
    stats,
    async resolve(name, type) {
      stats.lookups++;
      const rrtype = type.toUpperCase() as RecordType;
      const key = `${rrtype} ${name.toLowerCase().replace(/\.$/, '')}`;
      let result = cache.get(key);
      if (result) stats.cacheHits++;
      else {
        let pending = inFlight.get(key);
        if (pending) stats.cacheHits++;
        else {
          pending = lookup(key, name, rrtype).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        result = await pending;
      }
      // Every caller gets its own error (mailauth writes onto errors) and its own
      // list (mailauth sorts MX lists in place); the records in it are shared,
      // frozen, as nothing in mailauth writes to them.
      if ('error' in result) throw answeredError(result.error.code, result.error.message);
      return result.answer.records.slice() as Records;
    },
  };
}

/** The records of an answer, frozen all the way down before they are shared. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/**
 * The error of an answer already known (a cached NXDOMAIN or NODATA, which every
 * message from a domain without DMARC meets): without a stack, which would only
 * show this line, and is the dear part of making an Error.
 */
function answeredError(code: DnsErrorCode, message: string): DnsError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new DnsError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Parses MXPOST_DNS_SERVERS: addresses separated by commas or spaces, each an
 * IPv4 or IPv6 address with an optional port (`192.0.2.53`, `192.0.2.53:5353`,
 * `2001:db8::53`, `[2001:db8::53]:5353`). Host names are refused: resolving the
 * resolver would need a resolver. Empty: null, the system's servers.
 */
export function parseDnsServers(text: string): DnsServerAddress[] | null {
  const entries = text.split(/[\s,]+/).filter((entry) => entry !== '');
  if (entries.length === 0) return null;
  return entries.map((entry) => {
    const server = parseServer(entry);
    if (!server) throw new Error(`${JSON.stringify(entry)} is not an IP address with an optional port (host, host:port or [v6]:port)`);
    return server;
  });
}

function parseServer(entry: string): DnsServerAddress | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const [host, port] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : isIP(entry) === 6
      ? [entry, undefined]
      : ((/^([^:]+)(?::(\d+))?$/.exec(entry)?.slice(1) ?? ['', undefined]) as [string, string | undefined]);
  const portNumber = port === undefined ? 53 : Number(port);
  if (isIP(host) === 0 || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535) return null;
  return { host, port: portNumber };
}

/** The servers of /etc/resolv.conf, as Node read them at start-up; loopback if there are none. */
function systemServers(): DnsServerAddress[] {
  const servers = getServers()
    .map(parseServer)
    .filter((s): s is DnsServerAddress => s !== null);
  return servers.length > 0 ? servers : [{ host: '127.0.0.1', port: 53 }];
}
