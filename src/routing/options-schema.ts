import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { mapping } from '../config/mapping-schema.ts';

/**
 * Routes-file keys of the routing features (docs/routing.md): the recipient
 * callback and signed reply addresses. Kept apart from config/routes-schema.ts,
 * which includes them in a route, so that each file stays readable.
 */

function duration(options: { allowZero: boolean }) {
  return z.string({ error: 'must be a duration such as 2s, 5m or 30d' }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null || ms < 0 || (ms === 0 && !options.allowZero)) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as 2s, 5m or 30d, got ${JSON.stringify(text)}`, input: text });
      return z.NEVER;
    }
    return ms;
  });
}


/** An RCPT-time timeout past this would hold the client past its own patience (RFC 5321 4.5.3.2.3: 5 minutes). */
const MAX_CALLBACK_TIMEOUT_MS = 30_000;

export const callbackSchema = mapping({
  /** Where mxpost asks whether a recipient exists. Required. */
  url: z.string().refine((text) => /^https?:\/\//i.test(text) && URL.canParse(text), 'must be an http(s) URL').transform((text) => new URL(text).href),
  /** How long to wait for the answer. Default 2s: the sender is waiting on the RCPT reply. */
  timeout: duration({ allowZero: false })
    .refine((ms) => ms <= MAX_CALLBACK_TIMEOUT_MS, 'must be at most 30s: the sending server is waiting')
    .optional(),
  /** How long a 2xx or 404/410 answer is remembered. Default 5m; 0s: ask every time. */
  cache: duration({ allowZero: true }).optional(),
  /** What an error or timeout does: `tempfail` (451 4.3.0, the default) or `accept`. */
  onError: z.enum(['tempfail', 'accept'], { error: 'must be tempfail or accept' }).optional(),
});

export const replyTokensSchema = mapping({
  /** The local part before `+<token>`. Default `reply`; it is accepted without being listed in recipients. */
  localPart: z
    .string()
    .regex(/^[a-z0-9._-]+$/i, 'must be letters, digits and . _ - only')
    .transform((text) => text.toLowerCase())
    .optional(),
  /** Refuse invalid or expired tokens at RCPT (550 5.7.1). Default false: accept, and say so in the payload. */
  require: z.boolean().optional(),
});

export const DEFAULT_CALLBACK_TIMEOUT_MS = 2_000;
export const DEFAULT_CALLBACK_CACHE_MS = 5 * 60_000;
export const DEFAULT_REPLY_LOCAL_PART = 'reply';

/** Past this the sender's patience and MXPOST_DATA_REPLY_TIMEOUT_MS (30s by default) run out first. */
const MAX_SYNC_TIMEOUT_MS = 60_000;
export const DEFAULT_SYNC_TIMEOUT_MS = 10_000;

export const syncSchema = mapping({
  /** How long the reply to DATA waits for the endpoint; then 451. Default 10s. Keep it under MXPOST_DATA_REPLY_TIMEOUT_MS. */
  timeout: duration({ allowZero: false })
    .refine((ms) => ms <= MAX_SYNC_TIMEOUT_MS, 'must be at most 60s: the sending server is waiting for the reply')
    .optional(),
});
