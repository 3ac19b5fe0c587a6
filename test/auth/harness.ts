import { createAuthenticator, type AuthReport } from '../../src/auth/authenticate.ts';
import { createResolver } from '../../src/auth/resolver.ts';
import { startDnsServer, type DnsServer, type Zone } from '../support/dns-server.ts';

/**
 * mxpost's authenticator wired as the service wires it, to a real DNS server on
 * loopback that serves `zone`. Checks that throw (bugs) are collected in `errors`.
 */
export async function startAuthHarness(zone: Zone, options: { dnsTimeoutMs?: number; authTimeoutMs?: number; maxDkimSignatures?: number } = {}) {
  const dns = await startDnsServer(zone);
  const errors: { check: string; err: unknown }[] = [];
  const resolver = createResolver({ servers: [{ host: '127.0.0.1', port: dns.port }], timeoutMs: options.dnsTimeoutMs ?? 1000 });
  const authenticate = createAuthenticator({
    resolver,
    authservId: 'mx.receiver.test',
    hostname: 'mx.receiver.test',
    timeoutMs: options.authTimeoutMs ?? 3000,
    ...(options.maxDkimSignatures ? { maxDkimSignatures: options.maxDkimSignatures } : {}),
    onError: (check, err) => errors.push({ check, err }),
  });
  return {
    dns,
    resolver,
    errors,
    /** Authenticates `raw` as received from `ip` (default 192.0.2.10) with that HELO and MAIL FROM. */
    check(raw: string | Buffer, envelope: { ip?: string; helo?: string; mailFrom?: string } = {}): Promise<AuthReport> {
      return authenticate({
        raw: Buffer.from(raw),
        remoteAddress: envelope.ip ?? '192.0.2.10',
        helo: envelope.helo ?? 'mail.sender.test',
        mailFrom: envelope.mailFrom ?? 'alice@sender.test',
      });
    },
    stop: (): Promise<void> => dns.stop(),
  };
}

export type AuthHarness = Awaited<ReturnType<typeof startAuthHarness>>;

/** The SPF and DMARC records most cases share: 192.0.2.10 may send for sender.test. */
export function senderZone(domain: string, dmarc: string | null, spf = 'v=spf1 ip4:192.0.2.10 -all'): Zone {
  return {
    [domain]: [{ TXT: spf }],
    ...(dmarc === null ? {} : { [`_dmarc.${domain}`]: [{ TXT: dmarc }] }),
  };
}

export type { DnsServer };
