import { arc, type DNSResolver, type DKIMVerifyResult } from 'mailauth';
import { evaluateDmarc } from 'mailauth/lib/dmarc/index.js';
import { createDkimVerifier } from './dkim.ts';
import { dkimTags, readHeaderFields, withoutFields, type HeaderField } from './headers.ts';
import type { Resolver } from './resolver.ts';
import { formatAuthenticationResults } from './results-header.ts';
import type { AuthVerdicts, SpfVerdict } from './schema.ts';
import { scopeResolver } from './scoped-resolver.ts';
import { runSpf, spfIdentity } from './spf.ts';
import * as map from './verdicts.ts';

/**
 * SPF, DKIM, DMARC and ARC for one message, through mailauth's check functions
 * rather than its `authenticate()`, because that runs them one after another:
 * here SPF starts at once, beside DKIM; ARC and DMARC start when what they need
 * is known; DKIM keys and the DMARC record are fetched while the body is hashed.
 * The whole check has a deadline, after which whatever is unknown is `temperror`.
 *
 * The SMTP session supplies the client IP, HELO and MAIL FROM: nothing is read
 * from Received or Return-Path headers (mailauth's trustReceived stays off), so
 * a forged trace header cannot change a verdict.
 */

export interface AuthInput {
  readonly raw: Buffer;
  readonly remoteAddress: string;
  readonly helo: string;
  /** MAIL FROM; '' for the null sender, whose HELO name SPF checks instead. */
  readonly mailFrom: string;
}

export interface AuthReport {
  /** Everything of `auth` in the payload but `quarantined`, which depends on each route's policy. */
  readonly verdicts: Omit<AuthVerdicts, 'quarantined'>;
  /** Set when DMARC could not be evaluated because of the From field (several domains, none, …). */
  readonly authorProblem: map.AuthorProblem | null;
}

export interface AuthenticatorOptions {
  readonly resolver: Resolver;
  /** RFC 8601 authserv-id: names this ADMD in Authentication-Results. */
  readonly authservId: string;
  /** This MTA's host name, in SPF comments and the %{r} macro. */
  readonly hostname: string;
  /** Deadline of the whole check, from the final dot. */
  readonly timeoutMs: number;
  readonly maxDkimSignatures?: number;
  /** Told about checks that threw (a bug, not a verdict); they read `temperror`. */
  readonly onError?: (check: string, err: unknown) => void;
}

/**
 * Verifying a signature costs a DNS lookup and a public-key operation, and a
 * message may carry any number: OpenDKIM verifies 3 by default, mxpost the first
 * 5 from the top (the newest, added by the hops nearest to us; RFC 6376 section 6.1
 * allows a verifier to limit the number).
 */
export const MAX_DKIM_SIGNATURES = 5;

// RFC 8301 section 3.2: keys shorter than 1024 bits are not valid.
const MIN_KEY_BITS = 1024;

/** Why a message's checks are stopped once its report is made; nothing reads it. */
const FINISHED = new Error('authentication finished');

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expired: boolean };

export type Authenticator = (input: AuthInput) => Promise<AuthReport>;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const maxSignatures = options.maxDkimSignatures ?? MAX_DKIM_SIGNATURES;
  // Parsed DKIM key records are kept across messages (dkim.ts).
  const dkimVerify = createDkimVerifier();

  return async function authenticate(input) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    const expired = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
    const dns = scopeResolver(options.resolver, controller.signal);
    const resolver = dns.resolve as unknown as DNSResolver;

    const settle = <T>(check: string, work: Promise<T>): Promise<Outcome<T>> =>
      Promise.race([
        work.then(
          (value): Outcome<T> => ({ ok: true, value }),
          (err: unknown): Outcome<T> => {
            if (!controller.signal.aborted) options.onError?.(check, err);
            return { ok: false, expired: controller.signal.aborted };
          },
        ),
        expired.then((): Outcome<T> => ({ ok: false, expired: true })),
      ]);

    try {
      const fields = readHeaderFields(input.raw);
      const signatures = fields.filter((f) => f.name === 'dkim-signature');
      const verified = signatures.slice(0, maxSignatures);
      const skipped = signatures.slice(maxSignatures);
      prefetch(dns.resolve, fields, verified);

      const identity = spfIdentity(input);
      const spfWork = runSpf(input, { resolver, hostname: options.hostname, timeoutMs: options.timeoutMs });
      // Signatures past the cap are removed from what mailauth verifies, not from the message.
      const dkimWork = dkimVerify(withoutFields(input.raw, skipped), {
        resolver,
        sender: input.mailFrom || undefined,
        minBitLength: MIN_KEY_BITS,
        // RFC 8301 section 3.1: rsa-sha1 signatures are not valid.
        rejectRsaSha1: true,
      });
      const arcWork = dkimWork.then((dkim) => arc(dkim.arc as Parameters<typeof arc>[0], { resolver, minBitLength: MIN_KEY_BITS, ip: input.remoteAddress }));
      const dmarcWork = Promise.all([spfWork, dkimWork]).then(([spfResult, dkim]) =>
        evaluateDmarc({
          headerFrom: dkim.headerFrom,
          fromFields: dkim.fromFields,
          spfDomains: spfResult.status.result === 'pass' ? [spfResult.domain] : [],
          dkimDomains: passingSignatures(dkim),
          resolver,
        }),
      );

      const [spfOutcome, dkimOutcome, arcOutcome, dmarcOutcome] = await Promise.all([
        settle('spf', spfWork),
        settle('dkim', dkimWork),
        settle('arc', arcWork),
        settle('dmarc', dmarcWork),
      ]);
      const why = (outcome: { expired: boolean }) => (outcome.expired ? map.DEADLINE_REASON : 'internal error during the check');

      const spfVerdict: SpfVerdict = spfOutcome.ok
        ? map.spfVerdict(spfOutcome.value, identity)
        : map.spfUnknown(identity === 'helo' ? input.helo : domainOf(input.mailFrom), identity, why(spfOutcome));

      const dmarcEval = dmarcOutcome.ok ? dmarcOutcome.value : null;
      const alignedDomains = dmarcEval?.dkimAligned ?? null;
      const dkimVerdicts = [
        ...(dkimOutcome.ok ? map.dkimVerdicts(dkimOutcome.value.results, verified, alignedDomains) : map.dkimUnverified(verified, 'temperror', why(dkimOutcome))),
        ...map.dkimUnverified(skipped, 'policy', `not verified: only the first ${maxSignatures} signatures of a message are`),
      ];

      const dmarc = dmarcOutcome.ok
        ? map.dmarcVerdict(dmarcOutcome.value.response, dmarcOutcome.value.reason)
        : { verdict: map.dmarcUnknown('temperror', why(dmarcOutcome)), organizationalDomain: null, authorProblem: null };
      const dmarcVerdict = map.dmarcAfterTemporaryErrors(dmarc, spfVerdict, dkimVerdicts);

      const arcInstances = fields.filter((f) => f.name === 'arc-seal').length;
      const arcVerdict = arcOutcome.ok
        ? map.arcVerdict(arcOutcome.value, arcInstances, arcKeyNames(fields).some((name) => dns.failedTemporarily(name)))
        : arcInstances === 0
          ? { result: 'none' as const, instances: 0, reason: null }
          : { result: 'temperror' as const, instances: arcInstances, reason: why(arcOutcome) };

      const verdicts = { spf: spfVerdict, dkim: dkimVerdicts, dmarc: dmarcVerdict, arc: arcVerdict };
      return {
        verdicts: { ...verdicts, authenticationResults: formatAuthenticationResults(options.authservId, verdicts) },
        authorProblem: dmarc.authorProblem,
      };
    } finally {
      clearTimeout(timer);
      // Anything still running fails fast now: its DNS lookups are refused.
      // (A reason of our own: abort() alone makes a DOMException, stack and all, per message.)
      controller.abort(FINISHED);
    }
  };
}

function passingSignatures(dkim: DKIMVerifyResult) {
  return dkim.results
    .filter((r) => r.status.result === 'pass' && r.signingDomain)
    .map((r) => ({ id: r.id, domain: r.signingDomain!, aligned: r.status.aligned, underSized: r.status.underSized }));
}

/**
 * Starts the lookups that are certain to come early, into the cache: mailauth asks
 * for DKIM and ARC keys one after another, and for the DMARC records only once SPF
 * and DKIM are done.
 */
function prefetch(resolve: (name: string, type: string) => Promise<unknown>, fields: readonly HeaderField[], signatures: readonly HeaderField[]): void {
  const names = new Set<string>();
  for (const field of signatures) {
    const tags = dkimTags(field.value);
    const [d, s] = [tags.get('d'), tags.get('s')];
    if (d && s) names.add(`${s}._domainkey.${d}`);
  }
  // The newest ARC sets' keys; a longer chain fetches the rest as it goes.
  for (const name of arcKeyNames(fields).slice(0, 10)) names.add(name);
  const from = fields.filter((f) => f.name === 'from');
  const author = from.length === 1 ? /@([A-Za-z0-9.-]+)\s*>?\s*$/.exec(from[0]!.value)?.[1] : undefined;
  // DMARC's tree walk (RFC 9989 4.10) asks for the record at the author domain and at each parent.
  const labels = author?.toLowerCase().split('.').filter(Boolean) ?? [];
  for (let i = 0; i < labels.length && i < 8; i++) names.add(`_dmarc.${labels.slice(i).join('.')}`);
  for (const name of names) resolve(name, 'TXT').catch(() => undefined);
}

/** The key names of the ARC sets, whose lookup failures make a failed chain `temperror`. */
function arcKeyNames(fields: readonly HeaderField[]): string[] {
  return fields
    .filter((f) => f.name === 'arc-seal' || f.name === 'arc-message-signature')
    .map((f) => dkimTags(f.value))
    .filter((tags) => tags.get('d') && tags.get('s'))
    .map((tags) => `${tags.get('s')}._domainkey.${tags.get('d')}`);
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
