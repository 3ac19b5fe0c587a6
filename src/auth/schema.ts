import { z } from 'zod';

// The authentication verdicts in the payload (`auth`). The payload schema
// (src/message/payload-schema.ts) imports `authSchema` and `AuthVerdicts` from
// here; docs/auth.md explains every field to operators and application authors.

/** RFC 8601 result vocabulary. */
export const authResultSchema = z.enum(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']);
export type AuthResult = z.infer<typeof authResultSchema>;

const dmarcPolicySchema = z.enum(['none', 'quarantine', 'reject']);
const alignmentModeSchema = z.enum(['relaxed', 'strict']);

export const spfVerdictSchema = z.object({
  result: authResultSchema,
  /** The domain checked: MAIL FROM's, or the HELO name for the null sender. */
  domain: z.string(),
  /** Which identity that domain came from (RFC 7208 section 2.4 checks HELO for the null sender). */
  identity: z.enum(['mailfrom', 'helo']),
  /** Text the domain publishes with `exp=` to explain a `fail`; third-party text, never trust it. */
  explanation: z.string().nullable(),
  /** Why, in words (the lookup that failed, the limit that was hit). */
  reason: z.string().nullable(),
});

export const dkimVerdictSchema = z.object({
  result: authResultSchema,
  /** The signing domain (d=). */
  domain: z.string(),
  /** The key selector (s=). */
  selector: z.string(),
  /** The signing algorithm (a=), e.g. rsa-sha256 or ed25519-sha256. */
  algorithm: z.string(),
  /** Why it did not pass: "body hash did not verify", "bad signature", "no key", … null for a pass. */
  reason: z.string().nullable(),
  /** Whether this passing signature's domain aligns with the From domain under its DMARC record. */
  aligned: z.boolean(),
});

export const dmarcVerdictSchema = z.object({
  result: authResultSchema,
  /** The RFC5322.From domain; null when the From field names no single domain. */
  domain: z.string().nullable(),
  /** The published policy (p=) and subdomain policy (sp=, which defaults to p=); null without a record. */
  policy: dmarcPolicySchema.nullable(),
  subdomainPolicy: dmarcPolicySchema.nullable(),
  /**
   * The policy that applies to this message: p= for the domain itself, sp= (or np=) for a
   * subdomain that inherits the organisational domain's record, one step milder under t=y.
   */
  appliedPolicy: dmarcPolicySchema.nullable(),
  /** Where the record was found: the From domain or, found by the DNS tree walk, its organisational domain. */
  policyDomain: z.string().nullable(),
  /** Whether a passing SPF or DKIM identifier aligns with the From domain, and under which mode. */
  alignment: z.object({
    spf: z.boolean(),
    dkim: z.boolean(),
    spfMode: alignmentModeSchema.nullable(),
    dkimMode: alignmentModeSchema.nullable(),
  }),
  reason: z.string().nullable(),
});

export const arcVerdictSchema = z.object({
  /** pass: the chain of ARC sets verifies; fail: it does not; none: no ARC headers. */
  result: authResultSchema,
  /** How many ARC sets (forwarding hops that sealed the message) it carries. */
  instances: z.number().int().min(0),
  reason: z.string().nullable(),
});

export const authSchema = z.object({
  spf: spfVerdictSchema,
  /** One entry per DKIM-Signature, top (newest) first; empty when the message is not signed. */
  dkim: z.array(dkimVerdictSchema),
  dmarc: dmarcVerdictSchema,
  arc: arcVerdictSchema,
  /** Whether the route's policy marks this message as quarantined (DMARC fail under p=quarantine, enforced). */
  quarantined: z.boolean(),
  /** The RFC 8601 Authentication-Results header value, with mxpost's authserv-id. */
  authenticationResults: z.string(),
});

export type AuthVerdicts = z.infer<typeof authSchema>;
export type SpfVerdict = z.infer<typeof spfVerdictSchema>;
export type DkimVerdict = z.infer<typeof dkimVerdictSchema>;
export type DmarcVerdict = z.infer<typeof dmarcVerdictSchema>;
export type ArcVerdict = z.infer<typeof arcVerdictSchema>;
