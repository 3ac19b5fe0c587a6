import type { ARCResult, DKIMResult, DMARCResult, SPFResult } from 'mailauth';
import { dkimTags, type HeaderField } from './headers.ts';
import type { ArcVerdict, AuthResult, DkimVerdict, DmarcVerdict, SpfVerdict } from './schema.ts';

/**
 * mailauth's result objects → the verdicts of the payload. This is where mxpost
 * reads mailauth the way the RFCs do, where the two differ (each case has a test
 * in test/auth/ that shows mailauth's own reading beside mxpost's):
 *
 * - a DKIM body-hash mismatch is `fail` (RFC 6376 section 6.1.3 step 3 is a PERMFAIL,
 *   RFC 8601 section 2.7.1 "fail"); mailauth's default mode says `neutral`;
 * - a signature mailauth's default mode cannot process (unknown algorithm or
 *   canonicalization, missing d= or s=) is left out of its results; it is listed
 *   here as `neutral`, since every DKIM-Signature must be reported;
 * - a DMARC `fail` that a temporary SPF or DKIM error could have turned into a pass
 *   is `temperror` (RFC 7489 section 6.6.2; otherwise a DNS hiccup reads as forgery);
 * - an ARC chain that fails only because a key lookup failed temporarily is
 *   `temperror`, where mailauth says `fail` for every ARC problem.
 */

export const DEADLINE_REASON = 'authentication deadline passed before the check finished';

const RESULTS = new Set<string>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']);

/** Any result word mailauth may produce, in RFC 8601's vocabulary. */
function vocabulary(result: string | undefined): AuthResult {
  if (result === 'temperr') return 'temperror';
  return result !== undefined && RESULTS.has(result) ? (result as AuthResult) : 'neutral';
}

export function spfVerdict(result: SPFResult, identity: 'mailfrom' | 'helo'): SpfVerdict {
  return {
    result: vocabulary(result.status.result),
    domain: result.domain,
    identity,
    explanation: result.explanation ?? null,
    reason: result.status.comment ?? null,
  };
}

export function spfUnknown(domain: string, identity: 'mailfrom' | 'helo', reason: string): SpfVerdict {
  return { result: 'temperror', domain, identity, explanation: null, reason };
}

/**
 * One verdict per DKIM-Signature field in `verified`, in header order, from mailauth's
 * results. `alignedDomains` are the signing domains DMARC found aligned under the
 * From domain's record; without a record (null), mailauth's relaxed guess stands.
 */
export function dkimVerdicts(results: readonly DKIMResult[], verified: readonly HeaderField[], alignedDomains: ReadonlySet<string> | null): DkimVerdict[] {
  // mailauth reports each signature it processed, in header order; match them back by b=.
  const bySignature = new Map<string, DKIMResult[]>();
  for (const result of results) {
    if (!result.signature) continue;
    const list = bySignature.get(result.signature) ?? [];
    list.push(result);
    bySignature.set(result.signature, list);
  }
  return verified.map((field) => {
    const tags = dkimTags(field.value);
    const result = bySignature.get(tags.get('b') ?? '')?.shift();
    if (!result) {
      return described(tags, 'neutral', 'signature could not be processed: unsupported algorithm or canonicalization, or a required tag is missing');
    }
    let verdict = vocabulary(result.status.result);
    const reason = result.status.comment ?? null;
    if (verdict === 'neutral' && reason === 'body hash did not verify') verdict = 'fail';
    const domain = result.signingDomain ?? tags.get('d') ?? '';
    return {
      result: verdict,
      domain,
      selector: result.selector ?? tags.get('s') ?? '',
      algorithm: result.algo ?? tags.get('a') ?? '',
      reason: verdict === 'pass' ? null : reason,
      aligned: verdict === 'pass' && (alignedDomains ? alignedDomains.has(normalizeDomain(domain)) : Boolean(result.status.aligned)),
    };
  });
}

/** Verdicts for signatures that were not verified: over the cap (`policy`) or past the deadline (`temperror`). */
export function dkimUnverified(fields: readonly HeaderField[], result: 'policy' | 'temperror', reason: string): DkimVerdict[] {
  return fields.map((field) => described(dkimTags(field.value), result, reason));
}

function described(tags: Map<string, string>, result: AuthResult, reason: string): DkimVerdict {
  return { result, domain: tags.get('d') ?? '', selector: tags.get('s') ?? '', algorithm: tags.get('a') ?? '', reason, aligned: false };
}

/** Why mailauth could not evaluate DMARC from the From field (RFC 9989 section 5.3.1). */
export type AuthorProblem = 'no-author-domain' | 'multiple-author-domains' | 'invalid-author-domain' | 'multiple-from-fields';

const AUTHOR_PROBLEMS: Record<AuthorProblem, string> = {
  'no-author-domain': 'the From field names no address with a domain',
  'multiple-author-domains': 'the From field names addresses in several domains',
  'invalid-author-domain': 'the From field has an address without a usable domain',
  'multiple-from-fields': 'the message has more than one From field',
};

export interface DmarcOutcome {
  readonly verdict: DmarcVerdict;
  /** The author's organisational domain, for deciding what could have aligned. */
  readonly organizationalDomain: string | null;
  readonly authorProblem: AuthorProblem | null;
}

export function dmarcVerdict(response: DMARCResult | false, reason: AuthorProblem | undefined): DmarcOutcome {
  if (!response) {
    // Never a pass: with no single author domain there is nothing to align with.
    const problem = reason ?? 'no-author-domain';
    return { verdict: dmarcUnknown('permerror', `DMARC cannot be evaluated: ${AUTHOR_PROBLEMS[problem]}`), organizationalDomain: null, authorProblem: problem };
  }
  const result = vocabulary(response.status.result);
  const policy = (value: string | undefined) => (value === 'none' || value === 'quarantine' || value === 'reject' ? value : null);
  const hasRecord = result !== 'none' && policy(response.p) !== null;
  const mode = (strict: boolean | undefined) => (hasRecord ? (strict ? 'strict' : 'relaxed') : null);
  return {
    verdict: {
      result,
      domain: response.status.header?.from ?? null,
      policy: hasRecord ? policy(response.p) : null,
      subdomainPolicy: hasRecord ? policy(response.sp) : null,
      appliedPolicy: hasRecord ? policy(response.policy) : null,
      policyDomain: response.policyDomain ?? null,
      alignment: {
        spf: Boolean(response.alignment?.spf?.result),
        dkim: Boolean(response.alignment?.dkim?.result),
        spfMode: mode(response.alignment?.spf?.strict),
        dkimMode: mode(response.alignment?.dkim?.strict),
      },
      reason: response.error ?? (result === 'none' ? 'no DMARC record' : null),
    },
    organizationalDomain: response.domain ?? null,
    authorProblem: null,
  };
}

export function dmarcUnknown(result: 'temperror' | 'permerror', reason: string): DmarcVerdict {
  return {
    result,
    domain: null,
    policy: null,
    subdomainPolicy: null,
    appliedPolicy: null,
    policyDomain: null,
    alignment: { spf: false, dkim: false, spfMode: null, dkimMode: null },
    reason,
  };
}

/**
 * A DMARC `fail` is only certain if no identifier that could have aligned was left
 * unknown by a temporary error; otherwise it is `temperror`.
 */
export function dmarcAfterTemporaryErrors(outcome: DmarcOutcome, spf: SpfVerdict, dkim: readonly DkimVerdict[]): DmarcVerdict {
  const { verdict, organizationalDomain } = outcome;
  if (verdict.result !== 'fail' || verdict.domain === null) return verdict;
  const from = normalizeDomain(verdict.domain);
  const org = normalizeDomain(organizationalDomain ?? verdict.domain);
  const couldAlign = (domain: string, mode: 'relaxed' | 'strict' | null) => {
    const id = normalizeDomain(domain);
    return mode === 'strict' ? id === from : id === org || id.endsWith(`.${org}`);
  };
  const unknown: string[] = [];
  if (spf.result === 'temperror' && couldAlign(spf.domain, verdict.alignment.spfMode)) unknown.push(`SPF for ${spf.domain}`);
  for (const sig of dkim) {
    if (sig.result === 'temperror' && couldAlign(sig.domain, verdict.alignment.dkimMode)) unknown.push(`DKIM for ${sig.domain}`);
  }
  if (unknown.length === 0) return verdict;
  return { ...verdict, result: 'temperror', reason: `${unknown.join(' and ')} failed temporarily and might have aligned` };
}

export function arcVerdict(result: ARCResult, instances: number, keyLookupFailedTemporarily: boolean): ArcVerdict {
  const verdict = vocabulary(result.status.result);
  const count = typeof result.i === 'number' && result.i > 0 ? result.i : instances;
  if (verdict === 'fail' && keyLookupFailedTemporarily) {
    return { result: 'temperror', instances: count, reason: 'a key lookup for the ARC chain failed temporarily' };
  }
  return { result: verdict, instances: verdict === 'none' ? 0 : count, reason: result.status.comment ?? null };
}

export function normalizeDomain(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}
