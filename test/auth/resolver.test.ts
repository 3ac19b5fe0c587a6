import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createTtlCache } from '../../src/auth/dns-cache.ts';
import { createResolver, parseDnsServers } from '../../src/auth/resolver.ts';
import { loadSettings, SettingsError } from '../../src/config/settings.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';

/** Rejects with the error's code, so a test can assert on it. */
async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'resolved';
}

describe('DNS resolver against a DNS server on loopback', () => {
  let dns: DnsServer;
  let clock = 0;
  const now = () => clock;
  const servers = () => [{ host: '127.0.0.1', port: dns.port }];

  before(async () => {
    dns = await startDnsServer();
  });
  after(() => dns.stop());
  beforeEach(() => {
    dns.reset({
      'example.test': [{ TXT: 'v=spf1 -all', ttl: 60 }, { A: '192.0.2.1', ttl: 60 }, { AAAA: '2001:db8::1' }, { MX: [10, 'mx.example.test'] }],
      '1.2.0.192.in-addr.arpa': [{ PTR: 'host.example.test' }],
      'alias.example.test': [{ CNAME: 'example.test', ttl: 30 }],
      'split.example.test': [{ TXT: ['v=spf1 ', 'ip4:192.0.2.0/24 -all'] }],
      'big.example.test': [{ TXT: `v=DKIM1; p=${'A'.repeat(3000)}` }],
      'slow.example.test': ['TIMEOUT'],
    });
    dns.queries.length = 0;
    dns.mute(false);
    clock = 0;
  });

  test('answers in the shapes of dns.promises.resolve, which mailauth expects', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    assert.deepEqual(await resolver.resolve('example.test', 'TXT'), [['v=spf1 -all']]);
    assert.deepEqual(await resolver.resolve('split.example.test', 'TXT'), [['v=spf1 ', 'ip4:192.0.2.0/24 -all']]);
    assert.deepEqual(await resolver.resolve('example.test', 'A'), ['192.0.2.1']);
    assert.deepEqual(await resolver.resolve('example.test', 'AAAA'), ['2001:db8::1']);
    assert.deepEqual(await resolver.resolve('example.test', 'MX'), [{ exchange: 'mx.example.test', priority: 10 }]);
    assert.deepEqual(await resolver.resolve('1.2.0.192.in-addr.arpa', 'PTR'), ['host.example.test']);
    assert.deepEqual(await resolver.resolve('alias.example.test', 'A'), ['192.0.2.1'], 'a CNAME is followed');
  });

  test('reports a missing name as ENOTFOUND and a missing type as ENODATA, as Node does', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    assert.equal(await codeOf(resolver.resolve('nothing.example.test', 'TXT')), 'ENOTFOUND');
    assert.equal(await codeOf(resolver.resolve('example.test', 'PTR')), 'ENODATA');
    assert.equal(await codeOf(resolver.resolve(`${'a'.repeat(64)}.example.test`, 'A')), 'EBADNAME');
  });

  test('fetches an answer too large for UDP over TCP', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    const [record] = (await resolver.resolve('big.example.test', 'TXT')) as string[][];
    assert.equal(record!.join('').length, 'v=DKIM1; p='.length + 3000);
    assert.deepEqual(dns.queries, ['TXT big.example.test', 'TXT big.example.test'], 'asked over UDP, then over TCP');
  });

  test('answers from the cache within the TTL, and asks again once it has passed', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    await resolver.resolve('example.test', 'TXT');
    clock = 59_000;
    await resolver.resolve('EXAMPLE.test.', 'TXT');
    assert.deepEqual(dns.queries, ['TXT example.test'], 'one query within the 60 s TTL, whatever the case of the name');
    clock = 60_000;
    await resolver.resolve('example.test', 'TXT');
    assert.equal(dns.queries.length, 2, 'asked again when the TTL ran out');
    assert.deepEqual(resolver.stats, { lookups: 3, cacheHits: 1 });
  });

  test('keeps a CNAME chain no longer than its shortest TTL', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    await resolver.resolve('alias.example.test', 'A');
    clock = 31_000;
    await resolver.resolve('alias.example.test', 'A');
    assert.equal(dns.queries.length, 2, 'the CNAME has a 30 s TTL, the A record 60 s');
  });

  test('caches a negative answer for the negative TTL of its SOA (RFC 2308)', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    await codeOf(resolver.resolve('nothing.example.test', 'TXT'));
    clock = 29_000;
    assert.equal(await codeOf(resolver.resolve('nothing.example.test', 'TXT')), 'ENOTFOUND');
    assert.equal(dns.queries.length, 1);
    clock = 30_000;
    await codeOf(resolver.resolve('nothing.example.test', 'TXT'));
    assert.equal(dns.queries.length, 2, 'the test server publishes SOA minimum 30');
  });

  test('shares one query among concurrent lookups of the same name', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    await Promise.all([1, 2, 3, 4].map(() => resolver.resolve('example.test', 'MX')));
    assert.deepEqual(dns.queries, ['MX example.test']);
  });

  test('gives every caller its own list of a cached answer (mailauth sorts MX lists in place), and records no caller can change', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 1000, now });
    const first = (await resolver.resolve('example.test', 'MX')) as { exchange: string; priority?: number }[];
    first.push({ exchange: 'added.test' });
    first.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    // The records themselves are shared between callers, frozen rather than copied for each.
    assert.throws(() => {
      first.find((mx) => mx.exchange === 'mx.example.test')!.exchange = 'changed.test';
    }, TypeError);
    assert.deepEqual(await resolver.resolve('example.test', 'MX'), [{ exchange: 'mx.example.test', priority: 10 }]);
  });

  test('gives up on a server that does not answer within the lookup timeout: ETIMEOUT, not cached', async () => {
    const resolver = createResolver({ servers: servers(), timeoutMs: 200, now });
    const started = Date.now();
    assert.equal(await codeOf(resolver.resolve('slow.example.test', 'TXT')), 'ETIMEOUT');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 1500, `took ${elapsed} ms`);
    dns.load({ 'slow.example.test': [{ TXT: 'answered now' }] });
    assert.deepEqual(await resolver.resolve('slow.example.test', 'TXT'), [['answered now']], 'a failure is never cached');
  });

  test('a stopped DNS server fails the lookup at once with a temporary error code', async () => {
    const stopped = await startDnsServer();
    const port = stopped.port;
    await stopped.stop();
    const resolver = createResolver({ servers: [{ host: '127.0.0.1', port }], timeoutMs: 2000, now });
    const started = Date.now();
    assert.equal(await codeOf(resolver.resolve('example.test', 'TXT')), 'ECONNREFUSED');
    assert.ok(Date.now() - started < 1000);
  });

  test('moves on to the next server when the first does not answer', async () => {
    const resolver = createResolver({ servers: [{ host: '127.0.0.1', port: 9 }, ...servers()], timeoutMs: 1000, now });
    assert.deepEqual(await resolver.resolve('example.test', 'A'), ['192.0.2.1']);
  });
});

describe('DNS cache bounds', () => {
  test('evicts the least recently used answer beyond its entry limit', () => {
    const cache = createTtlCache<string>({ maxEntries: 2, maxBytes: 1_000_000, maxTtlSeconds: 3600 }, () => 0);
    cache.set('a', 'A', 60, 1);
    cache.set('b', 'B', 60, 1);
    cache.get('a');
    cache.set('c', 'C', 60, 1);
    assert.equal(cache.get('b'), undefined, 'b was the least recently used');
    assert.equal(cache.get('a'), 'A');
    assert.equal(cache.get('c'), 'C');
  });

  test('holds at most its byte budget, and never one answer larger than a sixteenth of it', () => {
    const cache = createTtlCache<string>({ maxEntries: 100, maxBytes: 1600, maxTtlSeconds: 3600 }, () => 0);
    for (let i = 0; i < 30; i++) cache.set(`k${i}`, 'x', 60, 100);
    assert.ok(cache.bytes <= 1600);
    assert.equal(cache.size, 16);
    cache.set('huge', 'x', 60, 101);
    assert.equal(cache.get('huge'), undefined);
  });

  test('keeps no answer longer than its maximum TTL, and none with a TTL of 0', () => {
    let clock = 0;
    const cache = createTtlCache<string>({ maxEntries: 10, maxBytes: 1000, maxTtlSeconds: 3600 }, () => clock);
    cache.set('long', 'x', 86_400, 1);
    cache.set('zero', 'x', 0, 1);
    assert.equal(cache.get('zero'), undefined);
    clock = 3600 * 1000;
    assert.equal(cache.get('long'), undefined);
  });
});

describe('MXPOST_DNS_SERVERS', () => {
  test('takes IPv4 and IPv6 addresses, with or without a port, separated by commas or spaces', () => {
    assert.deepEqual(parseDnsServers('192.0.2.53, 192.0.2.54:5353 2001:db8::53 [2001:db8::54]:5354'), [
      { host: '192.0.2.53', port: 53 },
      { host: '192.0.2.54', port: 5353 },
      { host: '2001:db8::53', port: 53 },
      { host: '2001:db8::54', port: 5354 },
    ]);
  });

  test('empty means the system resolvers', () => {
    assert.equal(parseDnsServers(''), null);
    assert.equal(loadSettings({}).dnsServers, null);
  });

  test('refuses host names and bad ports at start-up, naming the setting', () => {
    assert.throws(
      () => loadSettings({ MXPOST_DNS_SERVERS: 'dns.example.com,192.0.2.1:99999' }),
      (err: unknown) => err instanceof SettingsError && /MXPOST_DNS_SERVERS=.*"dns\.example\.com" is not an IP address/.test(err.message),
    );
    assert.throws(() => parseDnsServers('192.0.2.1:99999'), /not an IP address with an optional port/);
  });
});
