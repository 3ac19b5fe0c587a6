import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeliveryAdmin } from '../delivery/admin.ts';
import { parseMessageQuery, type MessageAdmin } from '../delivery/messages.ts';
import type { Routes } from '../config/routes.ts';
import { normalizeDomain } from '../routing/domain.ts';
import { dryRun, parseDryRunInput } from '../routing/dry-run.ts';

/**
 * The admin API under /v1/, for operators and the console. Every request needs
 * `Authorization: Bearer <MXPOST_ADMIN_TOKEN>`; without a token set, the API is off.
 * A console session (src/console/) also opens the GET requests: they change
 * nothing, so a cookie needs no CSRF defence there; POSTs take the token only.
 *
 *   GET  /v1/overview                        queue depth by state, endpoint health
 *   GET  /v1/messages?q=&from=&to=&route=&since=&until=&cursor=&limit=
 *   GET  /v1/messages/{queueId}              the message, its deliveries and payload
 *   GET  /v1/deliveries/{id}                 a delivery and every attempt
 *   GET  /v1/deliveries/{id}/payload         the payload as POSTed
 *   GET  /v1/dead-letters?route=&since=&limit=
 *   GET  /v1/dead-letters/{id}
 *   POST /v1/dead-letters/{id}/replay
 *   POST /v1/dead-letters/replay?route=&since=   all that match (at least one filter, or all=true)
 *   GET  /v1/held?route=&rule=&limit=         deliveries held by rules, oldest first
 *   POST /v1/held/{id}/release                deliver it now
 *   POST /v1/held/release?route=&rule=        all that match (at least one filter, or all=true)
 *   POST /v1/held/{id}/drop                   discard it
 *   GET  /v1/routes/test?to=&from=&header=&auth=   the dry run (routing/dry-run.ts); header and auth repeat
 */
export function createAdminApi(options: {
  token: string;
  deliveries: () => DeliveryAdmin | null;
  messages?: () => MessageAdmin | null;
  /** The routes in force, for the dry run. */
  routes?: () => Routes;
  /** Whether the request carries a valid console session. */
  session?: (req: IncomingMessage) => boolean;
}) {
  const expected = Buffer.from(`Bearer ${options.token}`);
  const authorized = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    return (req.method === 'GET' || req.method === 'HEAD') && (options.session?.(req) ?? false);
  };

  /** Handles the request when it is for the admin API; returns false otherwise. */
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (!url.pathname.startsWith('/v1/')) return false;
    if (options.token === '') return send(res, 404, { error: 'the admin API is off: set MXPOST_ADMIN_TOKEN' }), true;
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { error: 'a valid bearer token is required' }), true;
    }
    if (url.pathname === '/v1/routes/test' && options.routes) return testRoutes(req.method ?? 'GET', url, options.routes(), res), true;
    const deliveries = options.deliveries();
    if (!deliveries) return send(res, 503, { error: 'no queue in this process' }), true;
    try {
      await route(req.method ?? 'GET', url, deliveries, options.messages?.() ?? null, res);
    } catch (err) {
      const bad = (err as Error).name === 'BadRequest';
      send(res, bad ? 400 : 503, { error: bad ? (err as Error).message : `cannot reach the queue: ${(err as Error).message}` });
    }
    return true;
  };
}

async function route(method: string, url: URL, deliveries: DeliveryAdmin, messages: MessageAdmin | null, res: ServerResponse): Promise<void> {
  const path = url.pathname.split('/').slice(2).map(decodeURIComponent);
  const filter = () => {
    const domain = url.searchParams.get('route');
    const since = url.searchParams.get('since');
    const limit = url.searchParams.get('limit');
    const normalized = domain === null ? undefined : normalizeDomain(domain);
    if (normalized === null) throw badRequest('route must be a domain');
    const sinceMs = since === null ? undefined : Date.parse(since);
    if (Number.isNaN(sinceMs)) throw badRequest('since must be an ISO 8601 time');
    const limitN = limit === null ? undefined : Number(limit);
    if (limitN !== undefined && !(Number.isInteger(limitN) && limitN > 0 && limitN <= 1000)) throw badRequest('limit must be 1 to 1000');
    return { route: normalized, since: sinceMs, limit: limitN };
  };

  if (method === 'GET' && path[0] === 'overview' && path.length === 1) return send(res, 200, await deliveries.overview());
  if (method === 'GET' && path[0] === 'messages' && messages) {
    if (path.length === 1) {
      const query = parseMessageQuery(url.searchParams);
      if ('error' in query) throw badRequest(query.error);
      return send(res, 200, { ...(await messages.list(query)), retentionMs: messages.retentionMs });
    }
    const found = path.length === 2 ? await messages.show(path[1]!) : null;
    return found ? send(res, 200, found) : send(res, 404, { error: 'no such message (or it is older than MXPOST_RETENTION)' });
  }
  if (method === 'GET' && path[0] === 'deliveries' && path.length === 3 && path[2] === 'payload') {
    const payload = await deliveries.payload(path[1]!);
    return payload ? send(res, 200, payload) : send(res, 404, { error: 'no such delivery' });
  }
  if (method === 'GET' && path[0] === 'deliveries' && path.length === 2) {
    const view = await deliveries.show(path[1]!);
    return view ? send(res, 200, view) : send(res, 404, { error: 'no such delivery' });
  }
  if (path[0] === 'dead-letters') {
    if (method === 'GET' && path.length === 1) return send(res, 200, { deadLetters: await deliveries.listDeadLetters(filter()) });
    if (method === 'GET' && path.length === 2) {
      const view = await deliveries.show(path[1]!);
      return view?.state === 'dead-letter' ? send(res, 200, view) : send(res, 404, { error: 'no such dead letter' });
    }
    if (method === 'POST' && path.length === 2 && path[1] === 'replay') {
      const f = filter();
      if (!f.route && !f.since && url.searchParams.get('all') !== 'true') throw badRequest('name route or since, or all=true to replay every dead letter');
      return send(res, 200, { replayed: await deliveries.replayAll(f) });
    }
    if (method === 'POST' && path.length === 3 && path[2] === 'replay') {
      return (await deliveries.replay(path[1]!)) ? send(res, 200, { replayed: [path[1]] }) : send(res, 404, { error: 'no such dead letter' });
    }
  }
  if (path[0] === 'held') {
    const rule = url.searchParams.get('rule') ?? undefined;
    if (method === 'GET' && path.length === 1) return send(res, 200, { held: await deliveries.listHeld({ ...filter(), rule }) });
    if (method === 'POST' && path.length === 2 && path[1] === 'release') {
      const f = filter();
      if (!f.route && !rule && url.searchParams.get('all') !== 'true') throw badRequest('name route or rule, or all=true to release every held delivery');
      return send(res, 200, { released: await deliveries.releaseAll({ route: f.route, rule }) });
    }
    if (method === 'POST' && path.length === 3 && path[2] === 'release') {
      return (await deliveries.release(path[1]!)) ? send(res, 200, { released: [path[1]] }) : send(res, 404, { error: 'no such held delivery' });
    }
    if (method === 'POST' && path.length === 3 && path[2] === 'drop') {
      return (await deliveries.drop(path[1]!)) ? send(res, 200, { dropped: [path[1]] }) : send(res, 404, { error: 'no such held delivery' });
    }
  }
  send(res, 404, { error: 'no such endpoint' });
}

function testRoutes(method: string, url: URL, routes: Routes, res: ServerResponse): void {
  if (method !== 'GET') return send(res, 405, { error: 'use GET' });
  const q = url.searchParams;
  const input = parseDryRunInput({ to: q.get('to'), from: q.get('from'), headers: q.getAll('header'), auth: q.getAll('auth') });
  if (typeof input === 'string') return send(res, 400, { error: input });
  send(res, 200, dryRun(routes, input));
}

function badRequest(message: string): Error {
  return Object.assign(new Error(message), { name: 'BadRequest' });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // nosniff: a browser with a console session may open these; JSON holds mail text.
  res.writeHead(status, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' }).end(`${JSON.stringify(body, null, 2)}\n`);
}
