import { z } from 'zod';

// DRAFT shape of the authentication verdicts in the payload (`auth`). The
// payload schema (src/message/payload-schema.ts) imports `authSchema` from here;
// the authentication work owns and refines this file.

/** RFC 8601 result vocabulary. */
export const authResultSchema = z.enum(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']);

export const authSchema = z.object({
  spf: z.object({
    result: authResultSchema,
    /** The domain checked: MAIL FROM's, or the HELO name for the null sender. */
    domain: z.string(),
    explanation: z.string().nullable(),
  }),
  dkim: z.array(
    z.object({
      result: authResultSchema,
      domain: z.string(),
      selector: z.string(),
      algorithm: z.string(),
      reason: z.string().nullable(),
    }),
  ),
  dmarc: z.object({
    result: authResultSchema,
    /** The RFC5322.From domain. */
    domain: z.string().nullable(),
    policy: z.enum(['none', 'quarantine', 'reject']).nullable(),
    subdomainPolicy: z.enum(['none', 'quarantine', 'reject']).nullable(),
    alignment: z.object({ spf: z.boolean(), dkim: z.boolean() }),
  }),
  arc: z.object({ result: authResultSchema, instances: z.number().int() }),
  /** Whether the route's policy marks this message as quarantined (DMARC fail under p=quarantine). */
  quarantined: z.boolean(),
  /** The RFC 8601 Authentication-Results header value, with mxpost's authserv-id. */
  authenticationResults: z.string(),
});

export type AuthVerdicts = z.infer<typeof authSchema>;
