import { z } from 'zod';
import { authPolicySchema } from '../auth/policy-schema.ts';
import { callbackSchema, replyTokensSchema, syncSchema } from '../routing/options-schema.ts';
import { createRulesSchema } from '../routing/rules-schema.ts';
import { parseDuration } from './duration.ts';
import { endpointShape } from './endpoint-schema.ts';
import { describeValue, mapping } from './mapping-schema.ts';

/**
 * The shape of the routes file, as zod schemas. Messages are written for the
 * operator who edits the file: each issue is later placed at its YAML node, so a
 * message never repeats the path, and never echoes a secret.
 */

/** The catch-all recipient: any local part of the domain is accepted. */
export const CATCH_ALL = '*';

/**
 * Why a local part (the text before `@`) cannot name a recipient, or null when it
 * can. `*` is not a local part: callers that accept the catch-all check for it first.
 */
export function localPartProblem(localPart: string): string | null {
  if (localPart === '') return 'must not be empty';
  if (localPart.includes('@')) return 'must be a local part only, without "@" and the domain';
  if (/\s/.test(localPart)) return 'must not contain whitespace';
  // Sub-addresses are stripped before lookup, so a route naming one could never match.
  if (localPart.includes('+')) {
    return 'must not contain "+": it starts the sub-address ("support+123@" is delivered as "support")';
  }
  if (localPart.includes(CATCH_ALL)) {
    return `"${CATCH_ALL}" stands alone as the catch-all; patterns are not supported`;
  }
  return null;
}

const durationSchema = z
  .string({ error: 'must be a duration such as 30s, 15m, 24h or 7d' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as 30s, 15m, 24h or 7d, got ${JSON.stringify(text)}`, input: text });
      return z.NEVER;
    }
    return ms;
  });

/** How deliveries of a domain are retried and where they may connect. */
const deliveryShape = {
  /**
   * Retries: `window` is how long a delivery is retried, from when the message was
   * accepted (default 24h), then it is dead-lettered with its last reason.
   * `clientErrors` is how many attempts a 4xx other than 408/429 gets (default 3):
   * a client error rarely cures itself, but a deploy in progress can answer 404.
   */
  retry: mapping({
    window: durationSchema.optional(),
    clientErrors: z.number().int().min(1).max(100).optional(),
  }).optional(),
  /** Statuses that dead-letter at once, besides 410 Gone. Default: none. */
  permanent: z.array(z.number().int().min(300).max(599, 'must be an HTTP status from 300 to 599')).optional(),
  /**
   * Whether this domain's endpoints may be on loopback or private addresses
   * (10/8, 172.16/12, 192.168/16, fc00::/7). Default: MXPOST_ALLOW_PRIVATE_ENDPOINTS.
   */
  allowPrivate: z.boolean().optional(),
  /**
   * Whether they may be on link-local addresses (169.254/16, fe80::/10), where
   * cloud metadata services live. Default false: only an explicit yes allows it.
   */
  allowLinkLocal: z.boolean().optional(),
};

const BYTE_UNITS: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
const BYTE_SIZE_SHAPE = 'must be a number of bytes or a size such as 512KiB or 5MiB';

/** A size in bytes: a number, or a string with a binary unit ("512KiB", "5 MiB"). */
const byteSizeSchema = z.union([z.number(), z.string()], { error: BYTE_SIZE_SHAPE }).transform((value, ctx) => {
  const match = typeof value === 'string' ? /^(\d+)\s*(b|kib|mib|gib)?$/i.exec(value.trim()) : null;
  const bytes = typeof value === 'number' ? value : match ? Number(match[1]) * BYTE_UNITS[(match[2] ?? 'b').toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > 1024 ** 3) {
    ctx.addIssue({ code: 'custom', message: `${BYTE_SIZE_SHAPE}, from 0 to 1GiB, got ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  }
  return bytes;
});

/** What a domain's payloads carry besides the parsed message (docs/payload.md). */
const payloadShape = {
  /** Whether each payload carries the message as received, base64, in `message.raw`. Default false. */
  raw: z.boolean().optional(),
  /**
   * `inlineLimit`: how many decoded bytes of attachment content one payload
   * carries, base64, in MIME order; an attachment past it keeps its metadata
   * and says `contentOmitted: size-limit`. Default 5MiB; 0 sends metadata only.
   */
  attachments: mapping({ inlineLimit: byteSizeSchema.optional() }).optional(),
};

const recipientSchema = z
  .string()
  .superRefine((text, ctx) => {
    const problem = text === CATCH_ALL ? null : localPartProblem(text);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: text });
  })
  // RFC 5321 lets a host treat local parts case-sensitively; no mail system in use does.
  .transform((text) => text.toLowerCase());

/**
 * The schema of a routes file. The environment is an argument, not read here,
 * because `env:` secrets are resolved during validation so that a missing variable
 * is reported with every other problem of the file.
 */
export function createRoutesFileSchema(env: NodeJS.ProcessEnv) {
  const route = mapping({
    ...endpointShape(env),
    /**
     * The local parts accepted at this domain, compared case-insensitively; `"*"`
     * accepts any. Required, non-empty, unless the route has rules (a rule that
     * names a recipient accepts it): a domain that accepts nobody is a mistake.
     */
    recipients: z.array(recipientSchema).min(1, 'must list at least one local part, or "*" for any').optional(),
    /**
     * Per-address endpoints: local part → `{ url, secret }`, overriding the domain's.
     * A listed address is accepted even when `recipients` does not name it.
     * Default: none, every recipient goes to the domain's endpoint.
     */
    addresses: z.record(z.string(), mapping(endpointShape(env))).optional(),
    ...deliveryShape,
    ...payloadShape,
    /**
     * What to do with mail that fails authentication: `{ dmarc: enforce }`,
     * `{ spf: reject }`, `{ requireDkim: [domain, …] }` (src/auth/policy.ts).
     * Default: deliver everything, with its verdicts.
     */
    auth: authPolicySchema.optional(),
    /** Ask an HTTP endpoint at RCPT whether a recipient exists (docs/routing.md). Default: none. */
    callback: callbackSchema.optional(),
    /** Accept signed reply addresses `reply+<token>@` (docs/routing.md). Default: none. */
    replyTokens: replyTokensSchema.optional(),
    /** Answer DATA only once the endpoint has (docs/routing.md). Default: none, queued delivery. */
    sync: syncSchema.optional(),
    /** Rules tried before the route's own endpoint (docs/routing.md). Default: none. */
    rules: createRulesSchema(env).optional(),
  }).superRefine((route, ctx) => {
    if (route.recipients === undefined && route.rules === undefined) ctx.addIssue({ code: 'custom', path: ['recipients'], message: 'is required: list the local parts accepted, or "*" for any (or give the route rules that name recipients)' });
    // Tokens are signed with the route's secret; without one they cannot be checked.
    if (route.replyTokens && !route.secret) ctx.addIssue({ code: 'custom', path: ['replyTokens'], message: 'needs the route to have a secret: tokens are signed with it' });
  });
  return mapping(
    {
      /** Domain (Unicode or xn-- form, any case) → its route. Required, at least one. */
      domains: z.record(z.string(), route).refine((domains) => Object.keys(domains).length > 0, {
        message: 'must list at least one domain',
        // Also when a route below has problems of its own, but only if this is a mapping.
        when: (payload) => typeof payload.value === 'object' && payload.value !== null,
      }),
    },
    'the file must be a mapping with a "domains" key',
  );
}

export type RoutesFile = z.output<ReturnType<typeof createRoutesFileSchema>>;

const KIND: Record<string, string> = { string: 'a string', array: 'a list', object: 'a mapping', record: 'a mapping' };

/** Default wording for issues the schemas above do not word themselves. */
export const routesErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    const message = `must be ${KIND[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    // YAML reads an unquoted 1234 or true as a number or a boolean, not as the text.
    const unquoted = issue.expected === 'string' && ['number', 'boolean'].includes(typeof issue.input);
    return unquoted ? `${message}; quote it if it is meant as text` : message;
  }
  if (issue.code === 'too_small') return 'must not be empty';
  return undefined;
};
