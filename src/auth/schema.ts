import { z } from 'zod';

// The authentication verdicts in the payload (`auth`). The payload schema
// (src/message/payload-schema.ts) imports `authSchema` and `AuthVerdicts` from
// here; the descriptions go into the published JSON Schema, and docs/auth.md
// explains the verdicts and the policies to operators and application authors.

export const authResultSchema = z
  .enum(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy'])
  .meta({ id: 'AuthResult', description: 'An RFC 8601 result word.' });
export type AuthResult = z.infer<typeof authResultSchema>;

const dmarcPolicySchema = z.enum(['none', 'quarantine', 'reject']);
const alignmentModeSchema = z.enum(['relaxed', 'strict']);

export const spfVerdictSchema = z
  .object({
    result: authResultSchema,
    domain: z.string().describe("The domain checked: MAIL FROM's, or the HELO name for the null sender."),
    identity: z.enum(['mailfrom', 'helo']).describe('Which identity the domain came from (RFC 7208 2.4: HELO for the null sender).'),
    explanation: z.string().nullable().describe('Text the domain publishes with exp= to explain a fail. Third-party text: never trust it.'),
    reason: z.string().nullable().describe('Why, in words: the lookup that failed, the limit that was hit.'),
  })
  .meta({ id: 'SpfVerdict', description: 'SPF (RFC 7208) for the envelope sender and the client IP.' });

export const dkimVerdictSchema = z
  .object({
    result: authResultSchema,
    domain: z.string().describe('The signing domain (d=).'),
    selector: z.string().describe('The key selector (s=).'),
    algorithm: z.string().describe('The signing algorithm (a=), e.g. rsa-sha256 or ed25519-sha256.'),
    reason: z.string().nullable().describe('Why it did not pass ("body hash did not verify", "bad signature", "no key", …); null for a pass.'),
    aligned: z
      .boolean()
      .describe("Whether this passing signature's domain aligns with the From domain: under its DMARC record (adkim=), or relaxed without one."),
  })
  .meta({ id: 'DkimVerdict', description: 'One DKIM-Signature (RFC 6376).' });

export const dmarcVerdictSchema = z
  .object({
    result: authResultSchema,
    domain: z.string().nullable().describe('The RFC5322.From domain; null when the From field names no single domain.'),
    policy: dmarcPolicySchema.nullable().describe('The published policy (p=); null without a record.'),
    subdomainPolicy: dmarcPolicySchema.nullable().describe('The subdomain policy (sp=, which defaults to p=); null without a record.'),
    appliedPolicy: dmarcPolicySchema
      .nullable()
      .describe('The policy for this message: p= for the domain itself, sp= (or np=) for a subdomain using its organisational domain record, one step milder under t=y.'),
    policyDomain: z.string().nullable().describe('Where the record was found: the From domain, or its organisational domain found by the DNS tree walk.'),
    alignment: z
      .object({
        spf: z.boolean().describe('A passing SPF domain aligns with the From domain.'),
        dkim: z.boolean().describe('A passing DKIM signature aligns with the From domain.'),
        spfMode: alignmentModeSchema.nullable().describe('aspf=: relaxed (same organisational domain) or strict (same domain); null without a record.'),
        dkimMode: alignmentModeSchema.nullable().describe('adkim=, likewise.'),
      })
      .describe('Identifier alignment (RFC 7489 3.1).'),
    reason: z.string().nullable().describe('Why DMARC could not decide, when it could not.'),
  })
  .meta({ id: 'DmarcVerdict', description: 'DMARC (RFC 7489, RFC 9989) for the From domain.' });

export const arcVerdictSchema = z
  .object({
    result: authResultSchema.describe('pass: the chain of ARC sets verifies; fail: it does not; none: no ARC headers.'),
    instances: z.number().int().min(0).describe('How many ARC sets (forwarding hops that sealed the message) it carries.'),
    reason: z.string().nullable().describe('What the newest sealer recorded, or why the chain failed.'),
  })
  .meta({ id: 'ArcVerdict', description: 'The ARC chain (RFC 8617).' });

export const authSchema = z
  .object({
    spf: spfVerdictSchema,
    dkim: z.array(dkimVerdictSchema).describe('One entry per DKIM-Signature, top (newest) first; empty when the message is not signed.'),
    dmarc: dmarcVerdictSchema,
    arc: arcVerdictSchema,
    quarantined: z.boolean().describe("Whether the route's policy marks the message as quarantined (DMARC fail under p=quarantine, with dmarc: enforce)."),
    authenticationResults: z.string().describe("The RFC 8601 Authentication-Results header value, with mxpost's authserv-id, folded."),
  })
  .meta({ id: 'AuthVerdicts', description: 'Who sent the message, as SPF, DKIM, DMARC and ARC say.' });

export type AuthVerdicts = z.infer<typeof authSchema>;
export type SpfVerdict = z.infer<typeof spfVerdictSchema>;
export type DkimVerdict = z.infer<typeof dkimVerdictSchema>;
export type DmarcVerdict = z.infer<typeof dmarcVerdictSchema>;
export type ArcVerdict = z.infer<typeof arcVerdictSchema>;

/** One word per check, for log lines, metrics and list rows: a passing signature is what counts for DKIM. */
export function authSummary(verdicts: Pick<AuthVerdicts, 'spf' | 'dkim' | 'dmarc' | 'arc'>): Record<'spf' | 'dkim' | 'dmarc' | 'arc', string> {
  const dkim = verdicts.dkim.some((d) => d.result === 'pass') ? 'pass' : (verdicts.dkim[0]?.result ?? 'none');
  return { spf: verdicts.spf.result, dkim, dmarc: verdicts.dmarc.result, arc: verdicts.arc.result };
}
