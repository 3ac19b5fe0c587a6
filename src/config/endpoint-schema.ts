import { z } from 'zod';
import { secretProblem } from '../delivery/sign.ts';
import { readEnvValue } from './env-value.ts';

/**
 * An endpoint in the routes file: its URL and signing secrets. Domains,
 * per-address overrides and rules' `to` endpoints share these schemas.
 */

const ENV_PREFIX = 'env:';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a webhook URL is refused, or null when it is acceptable. */
export function urlProblem(text: string): string | null {
  const refusal = `must be an http(s) URL, got ${JSON.stringify(text)}`;
  // WHATWG parsing accepts "http:host" as "http://host/"; demand the explicit form.
  if (!/^https?:\/\//i.test(text) || !URL.canParse(text)) return refusal;
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refusal;
  if (url.username !== '' || url.password !== '') {
    // Not echoed: the URL holds a credential.
    return 'must not embed credentials (user:password@); the receiver authenticates deliveries by the signing secret';
  }
  return null;
}

/** Turns `env:NAME` into the value of NAME (or of the file named by NAME_FILE); keeps literals. */
function secretResolver(env: NodeJS.ProcessEnv) {
  return (value: string, ctx: z.RefinementCtx): string => {
    if (!value.startsWith(ENV_PREFIX)) return value;
    const name = value.slice(ENV_PREFIX.length);
    const fail = (message: string): never => {
      ctx.addIssue({ code: 'custom', message, input: value });
      return z.NEVER;
    };
    if (!ENV_NAME.test(name)) {
      return fail(`"${ENV_PREFIX}" must be followed by an environment variable name, got ${JSON.stringify(value)}`);
    }
    let resolved: string | undefined;
    try {
      resolved = readEnvValue(env, name);
    } catch (err) {
      return fail((err as Error).message);
    }
    if (resolved === undefined) return fail(`environment variable ${name} is not set (nor ${name}_FILE)`);
    // An empty key would sign every delivery with a secret anyone can guess.
    if (resolved === '') return fail(`environment variable ${name} is set but empty`);
    const problem = secretProblem(resolved);
    if (problem !== null) return fail(`environment variable ${name} ${problem}`);
    return resolved;
  };
}

/** Inline secrets get the same format check as those read from the environment. */
function checkInlineSecret(value: string, ctx: z.RefinementCtx): void {
  if (value.startsWith(ENV_PREFIX)) return;
  const problem = secretProblem(value);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: '[secret]' });
}

const SECRET_SHAPE = 'must be a string or a list of strings';

export function secretSchema(env: NodeJS.ProcessEnv) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z
      .array(z.string({ error: 'must be a string' }).min(1, 'must not be empty').superRefine(checkInlineSecret).transform(secretResolver(env)), {
        error: (issue) => (issue.code === 'invalid_type' ? SECRET_SHAPE : undefined),
      })
      .min(1, 'must list at least one secret'),
  );
}

export const urlSchema = z
  .string()
  .superRefine((text, ctx) => {
    const problem = urlProblem(text);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: text });
  })
  // Stored in WHATWG form (lower-case host, "/" path when none), as the HTTP client will send it.
  .transform((text) => new URL(text).href);

export function endpointShape(env: NodeJS.ProcessEnv) {
  return {
    /** Where deliveries are POSTed: an absolute http(s) URL without credentials. Required. */
    url: urlSchema,
    /**
     * Signing secret: a string, or a list of strings, newest first, to rotate without
     * downtime. Each is `env:NAME` (read from NAME, or from the file named by NAME_FILE,
     * when the file is loaded) or an inline literal. Default: none, deliveries unsigned;
     * a per-address endpoint without it inherits its domain's secret.
     */
    secret: secretSchema(env).optional(),
  };
}
