import { isIP } from 'node:net';
import { spf, type DNSResolver, type SPFResult } from 'mailauth';
import type { Resolver } from './resolver.ts';
import type { SpfVerdict } from './schema.ts';
import { spfVerdict } from './verdicts.ts';

/**
 * mxpost's SPF check (RFC 7208): the MAIL FROM domain, or the HELO name for the
 * null sender, against the client's IP. mailauth's strict mode is RFC 7208 exactly
 * (its default mode accepts some malformed records and counts void lookups
 * differently); the whole RFC 7208 test suite passes through this function
 * (test/auth/spf-suite.test.ts).
 */
export interface SpfInput {
  readonly remoteAddress: string;
  readonly helo: string;
  /** '' for the null sender. */
  readonly mailFrom: string;
}

export interface SpfOptions {
  readonly resolver: DNSResolver;
  /** This MTA's name, in the verdict's comment and the %{r} macro. */
  readonly hostname: string;
  /** RFC 7208 section 4.6.4: a limit on the whole evaluation; temperror past it. */
  readonly timeoutMs: number;
}

// RFC 7208 section 4.6.4: at most 10 terms that cause DNS queries, and at most 2 void lookups.
const MAX_DNS_TERMS = 10;
const MAX_VOID_LOOKUPS = 2;

export function runSpf(input: SpfInput, options: SpfOptions): Promise<SPFResult> {
  return spf({
    sender: input.mailFrom || undefined,
    ip: input.remoteAddress,
    // An address given in HELO is checked in its domain-literal form, which has no SPF record.
    helo: isIP(input.helo) ? `[${input.helo}]` : input.helo || `[${input.remoteAddress}]`,
    mta: options.hostname,
    resolver: options.resolver,
    strict: true,
    maxResolveCount: MAX_DNS_TERMS,
    maxVoidCount: MAX_VOID_LOOKUPS,
    maxElapsedTime: options.timeoutMs,
  });
}

export function spfIdentity(input: SpfInput): 'mailfrom' | 'helo' {
  return input.mailFrom === '' ? 'helo' : 'mailfrom';
}

/** The SPF verdict on its own, through the shared resolver: what the RFC 7208 suite runs. */
export async function checkSpf(input: SpfInput, options: Omit<SpfOptions, 'resolver'> & { resolver: Resolver }): Promise<SpfVerdict> {
  const result = await runSpf(input, { ...options, resolver: options.resolver.resolve as unknown as DNSResolver });
  return spfVerdict(result, spfIdentity(input));
}
