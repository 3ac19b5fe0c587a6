import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { DEFAULT_AUTH_POLICY, type AuthPolicy } from '../auth/policy.ts';
import type { RecipientCallback } from '../routing/callback.ts';
import { orderRules, type Rule } from '../routing/rules.ts';
import type { RulesFile } from '../routing/rules-schema.ts';
import { normalizeDomain } from '../routing/domain.ts';
import { DEFAULT_CALLBACK_CACHE_MS, DEFAULT_CALLBACK_TIMEOUT_MS, DEFAULT_REPLY_LOCAL_PART, DEFAULT_SYNC_TIMEOUT_MS } from '../routing/options-schema.ts';
import { formatPath, locateNode, problemsFromIssues, RoutesError, sortProblems } from './routes-problems.ts';
import type { Locator, RoutesProblem } from './routes-problems.ts';
import { CATCH_ALL, createRoutesFileSchema, localPartProblem, routesErrorMap } from './routes-schema.ts';
import type { RoutesFile } from './routes-schema.ts';

export { RoutesError } from './routes-problems.ts';
export type { RoutesProblem } from './routes-problems.ts';

export interface Endpoint {
  /** Absolute http(s) URL */
  readonly url: string;
  /** Resolved signing secrets, newest first; empty when the route has none */
  readonly secrets: readonly string[];
}

/** How a domain's deliveries are retried and where they may connect. */
export interface DeliveryPolicy {
  /** How long after acceptance a delivery is retried before it is dead-lettered. */
  readonly retryWindowMs: number;
  /** Attempts for a 4xx other than 408 and 429 (and for a redirect). */
  readonly clientErrorAttempts: number;
  /** Statuses that dead-letter at once; always includes 410. */
  readonly permanentStatuses: ReadonlySet<number>;
  /** Per-domain override of MXPOST_ALLOW_PRIVATE_ENDPOINTS; null when not set. */
  readonly allowPrivate: boolean | null;
  readonly allowLinkLocal: boolean;
}

export const DEFAULT_RETRY_WINDOW_MS = 24 * 3600 * 1000;
export const DEFAULT_CLIENT_ERROR_ATTEMPTS = 3;

/** What a domain's payloads carry besides the parsed message. */
export interface PayloadOptions {
  /** Carry the message as received, base64, in `message.raw`. */
  readonly raw: boolean;
  /** Decoded bytes of attachment content one payload carries; past it, metadata only. */
  readonly inlineLimit: number;
}

/**
 * 5 MiB of attachments inline per payload: a typical scan or document comes
 * through whole, while a 25 MB message still makes a payload of a few MB.
 */
export const DEFAULT_INLINE_LIMIT = 5 * 1024 * 1024;

export interface DomainRoute {
  /** ASCII lower-case (xn--) form, the map key */
  readonly domain: string;
  /** The domain's endpoint */
  readonly endpoint: Endpoint;
  /** Recipients include "*": any local part is accepted */
  readonly catchAll: boolean;
  /** Lower-case local parts, without "*" */
  readonly recipients: ReadonlySet<string>;
  /** Lower-case local part → the endpoint that overrides the domain's */
  readonly addresses: ReadonlyMap<string, Endpoint>;
  readonly delivery: DeliveryPolicy;
  /** What to do with mail that fails authentication; the default delivers everything. */
  readonly auth: AuthPolicy;
  readonly payload: PayloadOptions;
  /** Asked at RCPT whether a recipient exists; null: the routes file alone decides. */
  readonly callback: RecipientCallback | null;
  /** Signed reply addresses `<localPart>+<token>@`; null when the route issues none. */
  readonly replyTokens: { readonly localPart: string; readonly require: boolean } | null;
  /** Synchronous mode: the reply to DATA waits this long for the endpoint; null: queued delivery. */
  readonly sync: { readonly timeoutMs: number } | null;
  /** Routing rules in the order they are tried (routing/rules.ts); empty: none. */
  readonly rules: readonly Rule[];
}

export interface Routes {
  /** File path or label used in messages */
  readonly source: string;
  readonly domains: ReadonlyMap<string, DomainRoute>;
}

/**
 * Validates a routes file and resolves its `env:` secrets. Throws a RoutesError
 * listing every problem found, each at its line and column.
 */
export function parseRoutes(text: string, options: { source: string; env: NodeJS.ProcessEnv }): Routes {
  const { source, env } = options;
  const lineCounter = new LineCounter();
  // Plain messages: positions come from the line counter, in the same form as ours.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    // linePos reports line 0 before the first newline is seen; that is line 1.
    return { line: Math.max(line, 1), column: col };
  };
  const locate: Locator = (path, target) => position(locateNode(doc, path, target)?.range?.[0] ?? 0);

  // The document's structure is unreliable after a syntax error: report and stop.
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err) => ({ ...position(err.pos[0]), path: '', message: err.message }));
    throw new RoutesError(source, sortProblems(problems));
  }
  if (doc.contents === null) {
    throw new RoutesError(source, [
      { line: 1, column: 1, path: '', message: 'the file is empty; it must map "domains" to at least one route' },
    ]);
  }

  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // Alias bombs and similar: yaml refuses to expand them.
    throw new RoutesError(source, [{ ...position(0), path: '', message: (err as Error).message }]);
  }

  const problems = keyProblems(raw, locate);
  const parsed = createRoutesFileSchema(env).safeParse(raw, { error: routesErrorMap });
  if (!parsed.success) problems.push(...problemsFromIssues(parsed.error.issues, locate));
  if (problems.length > 0 || !parsed.success) throw new RoutesError(source, sortProblems(problems));
  return buildRoutes(source, parsed.data);
}

/** Reads and parses a routes file; an unreadable file is a RoutesError at line 0. */
export async function loadRoutes(path: string, env: NodeJS.ProcessEnv): Promise<Routes> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw unreadableRoutes(path, err as Error);
  }
  return parseRoutes(text, { source: path, env });
}

/** The problem of a routes file that cannot be read at all: line 0. */
export function unreadableRoutes(path: string, err: Error): RoutesError {
  return new RoutesError(path, [{ line: 0, column: 0, path: '', message: `cannot read the routes file: ${err.message}` }]);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Problems with mapping keys: domain names, and the local parts under `addresses`.
 * Zod sees keys only as strings, and two spellings of one domain (`Bücher.test`,
 * `xn--bcher-kva.test`) are distinct strings until normalized, so this is checked
 * on the raw document, whatever zod thinks of the values under those keys.
 */
function keyProblems(raw: unknown, locate: Locator): RoutesProblem[] {
  const problems: RoutesProblem[] = [];
  const report = (path: readonly PropertyKey[], message: string) =>
    problems.push({ ...locate(path, 'key'), path: formatPath(path), message });

  const domains = isMapping(raw) ? raw['domains'] : undefined;
  if (!isMapping(domains)) return problems;
  const domainsSeen = new Map<string, string>();
  for (const [key, route] of Object.entries(domains)) {
    const path = ['domains', key];
    const domain = normalizeDomain(key);
    const first = domain === null ? undefined : domainsSeen.get(domain);
    if (domain === null) report(path, 'is not a valid domain name');
    else if (first !== undefined) {
      report(path, `duplicate domain: ${JSON.stringify(first)} is the same domain (${domain})`);
    } else domainsSeen.set(domain, key);

    const addresses = isMapping(route) ? route['addresses'] : undefined;
    if (!isMapping(addresses)) continue;
    const addressesSeen = new Map<string, string>();
    for (const localPart of Object.keys(addresses)) {
      const addressPath = [...path, 'addresses', localPart];
      const problem =
        localPart === CATCH_ALL
          ? `is not an address; list "${CATCH_ALL}" in recipients to accept any local part`
          : localPartProblem(localPart);
      const lower = localPart.toLowerCase();
      const earlier = addressesSeen.get(lower);
      if (problem !== null) report(addressPath, problem);
      else if (earlier !== undefined) {
        report(addressPath, `duplicate address: local parts ignore case, so ${JSON.stringify(earlier)} is the same`);
      } else addressesSeen.set(lower, localPart);
    }
  }
  return problems;
}

function endpoint(url: string, secrets: readonly string[]): Endpoint {
  return Object.freeze({ url, secrets: Object.freeze([...secrets]) });
}

/** The validated file as lookup structures; every check has passed by now. */
function buildRoutes(source: string, file: RoutesFile): Routes {
  const domains = new Map<string, DomainRoute>();
  for (const [key, route] of Object.entries(file.domains)) {
    const domain = normalizeDomain(key);
    if (domain === null) throw new Error(`unreachable: domain ${JSON.stringify(key)} passed validation`);
    const domainEndpoint = endpoint(route.url, route.secret ?? []);
    const addresses = new Map<string, Endpoint>();
    for (const [localPart, override] of Object.entries(route.addresses ?? {})) {
      addresses.set(localPart.toLowerCase(), endpoint(override.url, override.secret ?? domainEndpoint.secrets));
    }
    domains.set(
      domain,
      Object.freeze({
        domain,
        endpoint: domainEndpoint,
        catchAll: (route.recipients ?? []).includes(CATCH_ALL),
        recipients: new Set((route.recipients ?? []).filter((localPart) => localPart !== CATCH_ALL)),
        addresses,
        delivery: Object.freeze({
          retryWindowMs: route.retry?.window ?? DEFAULT_RETRY_WINDOW_MS,
          clientErrorAttempts: route.retry?.clientErrors ?? DEFAULT_CLIENT_ERROR_ATTEMPTS,
          permanentStatuses: new Set([410, ...(route.permanent ?? [])]),
          allowPrivate: route.allowPrivate ?? null,
          allowLinkLocal: route.allowLinkLocal ?? false,
        }),
        auth: route.auth ?? DEFAULT_AUTH_POLICY,
        payload: Object.freeze({ raw: route.raw ?? false, inlineLimit: route.attachments?.inlineLimit ?? DEFAULT_INLINE_LIMIT }),
        callback: route.callback
          ? Object.freeze({
              url: route.callback.url,
              timeoutMs: route.callback.timeout ?? DEFAULT_CALLBACK_TIMEOUT_MS,
              cacheMs: route.callback.cache ?? DEFAULT_CALLBACK_CACHE_MS,
              onError: route.callback.onError ?? 'tempfail',
            })
          : null,
        replyTokens: route.replyTokens
          ? Object.freeze({ localPart: route.replyTokens.localPart ?? DEFAULT_REPLY_LOCAL_PART, require: route.replyTokens.require ?? false })
          : null,
        sync: route.sync ? Object.freeze({ timeoutMs: route.sync.timeout ?? DEFAULT_SYNC_TIMEOUT_MS }) : null,
        rules: buildRules(route.rules ?? [], domainEndpoint.secrets),
      }),
    );
  }
  return Object.freeze({ source, domains });
}

const DEFAULT_REJECT_CODE = 550;
const DEFAULT_REJECT_TEXT = 'Message rejected by policy';

/** A domain's rules, compiled and in the order they are tried; endpoints without a secret take the domain's. */
function buildRules(rules: RulesFile, domainSecrets: readonly string[]): readonly Rule[] {
  const built = rules.map(
    (rule): Rule =>
      Object.freeze({
        name: rule.name,
        priority: rule.priority ?? 0,
        match: Object.freeze({ ...rule.match }),
        action: rule.action ?? 'deliver',
        to: Object.freeze((rule.to ?? []).map((to) => Object.freeze({ template: to.url, secrets: Object.freeze([...(to.secret ?? domainSecrets)]) }))),
        reply: (rule.action ?? 'deliver') === 'reject' ? Object.freeze({ code: rule.code ?? DEFAULT_REJECT_CODE, text: rule.text ?? DEFAULT_REJECT_TEXT }) : null,
      }),
  );
  return Object.freeze(orderRules(built));
}
