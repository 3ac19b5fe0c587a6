import type { AuthReport } from './authenticate.ts';
import type { DkimVerdict } from './schema.ts';
import { normalizeDomain } from './verdicts.ts';

/**
 * What a domain of the routes file does with the verdicts (its `auth:` block),
 * and the one decision made from them. The default delivers everything with its
 * verdicts: refusing mail is a choice the operator makes per domain.
 */
export interface AuthPolicy {
  /**
   * `enforce`: apply the sender's published DMARC policy. A `fail` under p=reject is
   * refused with 550, under p=quarantine delivered with `quarantined: true`, under
   * p=none delivered; a message whose From field names no single domain is refused,
   * since DMARC cannot protect it. `monitor` (default): deliver with the verdicts.
   */
  readonly dmarc: 'monitor' | 'enforce';
  /** `reject`: refuse SPF `fail` (the sender's domain says "-all" for this client). `monitor` (default). */
  readonly spf: 'monitor' | 'reject';
  /**
   * Domains, one of which must have a passing DKIM signature on the message (its d=,
   * exactly, case-insensitive), or the message is refused. Default: none required.
   */
  readonly requireDkim: readonly string[];
}

export const DEFAULT_AUTH_POLICY: AuthPolicy = Object.freeze({ dmarc: 'monitor', spf: 'monitor', requireDkim: Object.freeze([]) });

export type AuthCheck = 'dmarc' | 'spf' | 'dkim';

export type PolicyDecision =
  | { readonly action: 'deliver'; readonly quarantined: boolean }
  /** A verdict about the message: 550, the sender does not retry. */
  | { readonly action: 'reject'; readonly check: AuthCheck; readonly reason: string }
  /** A verdict the policy needs is unknown (DNS failed, deadline): 451, the sender retries later. */
  | { readonly action: 'defer'; readonly check: AuthCheck; readonly reason: string };

/** The decision for one route: each check the policy asks for, the first refusal winning. */
export function decide(report: AuthReport, policy: AuthPolicy): PolicyDecision {
  const { spf, dkim, dmarc } = report.verdicts;
  const refusals: PolicyDecision[] = [];
  let quarantined = false;

  if (policy.dmarc === 'enforce') {
    if (report.authorProblem !== null) {
      refusals.push({ action: 'reject', check: 'dmarc', reason: dmarc.reason ?? 'DMARC cannot be evaluated' });
    } else if (dmarc.result === 'temperror') {
      refusals.push({ action: 'defer', check: 'dmarc', reason: `DMARC check for ${dmarc.domain ?? 'the From domain'} failed temporarily: ${dmarc.reason ?? 'DNS error'}` });
    } else if (dmarc.result === 'fail' && dmarc.appliedPolicy === 'reject') {
      refusals.push({ action: 'reject', check: 'dmarc', reason: `${dmarc.domain} publishes DMARC p=reject and this message fails it: ${evidence(report)}` });
    } else if (dmarc.result === 'fail' && dmarc.appliedPolicy === 'quarantine') {
      quarantined = true;
    }
  }

  if (policy.spf === 'reject') {
    if (spf.result === 'fail') {
      refusals.push({ action: 'reject', check: 'spf', reason: `SPF fail: ${spf.domain} does not authorise this client to send its mail` });
    } else if (spf.result === 'temperror') {
      refusals.push({ action: 'defer', check: 'spf', reason: `SPF check for ${spf.domain} failed temporarily: ${spf.reason ?? 'DNS error'}` });
    }
  }

  if (policy.requireDkim.length > 0) {
    const required = new Set(policy.requireDkim.map(normalizeDomain));
    const fromRequired = dkim.filter((sig) => required.has(normalizeDomain(sig.domain)));
    const list = policy.requireDkim.join(', ');
    if (!fromRequired.some((sig) => sig.result === 'pass')) {
      refusals.push(
        fromRequired.some((sig) => sig.result === 'temperror')
          ? { action: 'defer', check: 'dkim', reason: `DKIM check for ${list} failed temporarily` }
          : { action: 'reject', check: 'dkim', reason: `a valid DKIM signature from ${list} is required: ${describeDkim(fromRequired)}` },
      );
    }
  }

  return strictest(refusals) ?? { action: 'deliver', quarantined };
}

/**
 * One reply for a message whose routes decided differently: a refusal beats a
 * deferral (retrying cannot help), a deferral beats delivery. Mail is refused in
 * the session rather than delivered to some routes only: never dropped silently.
 */
export function strictest(decisions: readonly PolicyDecision[]): PolicyDecision | null {
  return decisions.find((d) => d.action === 'reject') ?? decisions.find((d) => d.action === 'defer') ?? decisions[0] ?? null;
}

/** Why a DMARC failure failed, for the reply text: what SPF and DKIM said. */
function evidence(report: AuthReport): string {
  const { spf, dkim, dmarc } = report.verdicts;
  const spfPart = spf.result === 'pass' && !dmarc.alignment.spf ? `SPF pass for ${spf.domain} (not aligned)` : `SPF ${spf.result} for ${spf.domain}`;
  const passing = dkim.filter((sig) => sig.result === 'pass');
  const dkimPart = passing.length > 0 && !dmarc.alignment.dkim ? `DKIM pass for ${passing.map((s) => s.domain).join(', ')} (not aligned)` : describeDkim(dkim);
  return `${spfPart}, ${dkimPart}`;
}

function describeDkim(signatures: readonly DkimVerdict[]): string {
  if (signatures.length === 0) return 'no DKIM signature';
  const shown = signatures.slice(0, 2).map((sig) => `DKIM ${sig.result} for ${sig.domain}${sig.reason ? ` (${sig.reason})` : ''}`);
  return signatures.length > 2 ? `${shown.join(', ')} and ${signatures.length - 2} more` : shown.join(', ');
}
