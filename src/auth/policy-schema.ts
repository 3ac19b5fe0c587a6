import { z } from 'zod';
import { normalizeDomain } from '../routing/domain.ts';
import { DEFAULT_AUTH_POLICY, type AuthPolicy } from './policy.ts';

/**
 * The `auth:` block of a domain in the routes file, for example
 *
 *     auth: { dmarc: enforce, spf: reject, requireDkim: [billing.example.com] }
 *
 * Every key is optional; an absent block is DEFAULT_AUTH_POLICY (deliver
 * everything with its verdicts). What each key does is in policy.ts and docs/auth.md.
 */
export const authPolicySchema = z
  .strictObject(
    {
      dmarc: z.enum(['monitor', 'enforce'], { error: (issue) => `must be monitor or enforce, got ${JSON.stringify(issue.input)}` }).optional(),
      spf: z.enum(['monitor', 'reject'], { error: (issue) => `must be monitor or reject, got ${JSON.stringify(issue.input)}` }).optional(),
      requireDkim: z
        .array(
          z.string({ error: 'must be a domain name' }).transform((text, ctx) => {
            const domain = normalizeDomain(text);
            if (domain === null) {
              ctx.addIssue({ code: 'custom', message: `is not a valid domain name: ${JSON.stringify(text)}`, input: text });
              return z.NEVER;
            }
            return domain;
          }),
          { error: 'must be a list of domain names' },
        )
        .min(1, 'must list at least one domain, or be left out')
        .optional(),
    },
    {
      error: (issue) => {
        if (issue.code === 'unrecognized_keys') return 'allowed keys are dmarc, spf, requireDkim';
        if (issue.code === 'invalid_type' && issue.input !== undefined) return 'must be a mapping, e.g. { dmarc: enforce }';
        return undefined;
      },
    },
  )
  .transform(
    (block): AuthPolicy =>
      Object.freeze({
        dmarc: block.dmarc ?? DEFAULT_AUTH_POLICY.dmarc,
        spf: block.spf ?? DEFAULT_AUTH_POLICY.spf,
        requireDkim: Object.freeze(block.requireDkim ?? []),
      }),
  );
