import { z } from 'zod';
import { authResultSchema } from '../auth/schema.ts';
import { secretSchema, urlProblem } from '../config/endpoint-schema.ts';
import { mapping } from '../config/mapping-schema.ts';
import { compilePattern, type Pattern } from './patterns.ts';
import { PLACEHOLDER, placeholders } from './rules.ts';

/**
 * The `rules:` list of a domain route (docs/routing.md). Each rule is checked
 * here for shape; routes-schema.ts adds the endpoints (`to`, with their
 * secrets) and routing/rules.ts compiles the result into what is evaluated.
 */


const patternSchema = z.string({ error: 'must be a pattern: text, a wildcard such as "ticket-*", or a /regular expression/' }).transform((text, ctx): Pattern => {
  const compiled = compilePattern(text);
  if (typeof compiled === 'string') {
    ctx.addIssue({ code: 'custom', message: compiled, input: text });
    return z.NEVER;
  }
  return compiled;
});

/** One pattern, or a list of which any may match. */
const patternsSchema = z
  .preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(patternSchema, { error: 'must be a pattern or a list of patterns' }).min(1, 'must list at least one pattern'));

const resultsSchema = z
  .preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(authResultSchema, { error: `must be a result (${authResultSchema.options.join(', ')}) or a list of them` }).min(1));

const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

export const ruleMatchSchema = mapping(
  {
    /** The recipient's local part: exact and wildcards ignore case and the +tag; a /regex/ sees the whole local part as sent. */
    recipient: patternsSchema.optional(),
    /** The envelope sender (MAIL FROM), the whole address; "<>" is the null sender of bounces. */
    from: patternsSchema.optional(),
    /** Header name → pattern: matches when any field of that name matches. */
    headers: z
      .record(
        z.string().regex(HEADER_NAME, 'is not a header field name'),
        patternsSchema,
        { error: 'must be a mapping of header names to patterns' },
      )
      .transform((headers) => Object.entries(headers).map(([name, patterns]) => ({ name: name.toLowerCase(), patterns })))
      .optional(),
    /** Check → result(s): the one-word verdicts of the payload's auth (dkim: pass when any signature passes). */
    auth: mapping(
      { spf: resultsSchema.optional(), dkim: resultsSchema.optional(), dmarc: resultsSchema.optional(), arc: resultsSchema.optional() },
      'must be a mapping such as { dmarc: pass }',
    ).optional(),
  },
  'must be a mapping of recipient, from, headers, auth',
);

export const RULE_ACTIONS = ['deliver', 'drop', 'hold', 'reject'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A rule without its endpoints: routes-schema.ts adds `to`, which needs the environment for secrets. */
export const ruleShape = {
  /** Unique within the domain: logs, metrics, the payload and held deliveries name the rule by it. */
  name: z.string({ error: 'must be a name' }).regex(RULE_NAME, 'must be 1 to 64 letters, digits and . _ - (starting with a letter or digit)'),
  /** Higher first; rules of equal priority are tried in file order. Default 0. */
  priority: z.number({ error: 'must be a whole number' }).int('must be a whole number').min(-1000).max(1000).optional(),
  /** Every condition must hold; no `match` matches every message. */
  match: ruleMatchSchema.optional(),
  /** Default deliver. */
  action: z.enum(RULE_ACTIONS, { error: `must be one of ${RULE_ACTIONS.join(', ')}` }).optional(),
  /** reject: the SMTP code, 4xx (try later) or 5xx (refused). Default 550. */
  code: z
    .number({ error: 'must be an SMTP code' })
    .refine((code) => Number.isInteger(code) && ((code >= 450 && code <= 459) || (code >= 550 && code <= 559)), 'must be an SMTP code from 450 to 459 (try again later) or 550 to 559 (refused)')
    .optional(),
  /** reject: the reply text. Default "Message rejected by policy". */
  text: z
    .string()
    .regex(/^[\x20-\x7e]{1,400}$/, 'must be 1 to 400 printable ASCII characters: it goes on the SMTP reply line')
    .optional(),
};

export type RuleMatch = z.output<typeof ruleMatchSchema>;

/** A rule's endpoint URL: placeholders `{name}` only after the host, in the path and query. */
const templateSchema = z.string({ error: 'must be an http(s) URL' }).superRefine((text, ctx) => {
  const names = placeholders(text);
  const problem = urlProblem(text.replace(PLACEHOLDER, 'x'));
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: text });
  else if (names.length > 0 && !/^https?:\/\/[^/?#{}]+[/?#]/i.test(text.slice(0, text.indexOf('{')))) {
    ctx.addIssue({ code: 'custom', message: 'may use {placeholders} only in the path and the query, not in the host', input: text });
  }
});

function ruleEndpointSchema(env: NodeJS.ProcessEnv) {
  const shape = { url: templateSchema, secret: secretSchema(env).optional() };
  // A URL alone is short for { url }.
  const endpoint = z.preprocess((value) => (typeof value === 'string' ? { url: value } : value), mapping(shape, 'must be a URL or a mapping of url, secret'));
  return z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(endpoint).min(1, 'must list at least one endpoint'));
}

/** The `rules:` list of a domain route. */
export function createRulesSchema(env: NodeJS.ProcessEnv) {
  const rule = mapping({ ...ruleShape, to: ruleEndpointSchema(env).optional() }, 'must be a mapping with name, match, action').superRefine((rule, ctx) => {
    const action = rule.action ?? 'deliver';
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (action !== 'reject' && rule.code !== undefined) problem('code', 'is for action: reject only');
    if (action !== 'reject' && rule.text !== undefined) problem('text', 'is for action: reject only');
    if ((action === 'reject' || action === 'drop') && rule.to !== undefined) problem('to', `is for action: deliver or hold; a ${action} rule has no endpoint`);
    const groups = new Set(patternsOf(rule.match).flatMap((pattern) => pattern.groups));
    for (const endpoint of rule.to ?? []) {
      for (const name of placeholders(endpoint.url)) {
        if (!groups.has(name)) problem('to', `{${name}} is not a named group of this rule's regular expressions (write it as (?<${name}>…) in recipient, from or headers)`);
      }
    }
  });
  return z.array(rule, { error: 'must be a list of rules' }).superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate rule name ${JSON.stringify(rule.name)}: names are unique within a domain` });
      seen.add(rule.name);
    });
  });
}

function patternsOf(match: RuleMatch | undefined): Pattern[] {
  if (!match) return [];
  return [...(match.recipient ?? []), ...(match.from ?? []), ...(match.headers ?? []).flatMap((header) => header.patterns)];
}

export type RulesFile = z.output<ReturnType<typeof createRulesSchema>>;
