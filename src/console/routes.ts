import type { DeliveryAdmin } from '../delivery/admin.ts';
import { parseMessageQuery, type MessageAdmin } from '../delivery/messages.ts';
import { normalizeDomain } from '../routing/domain.ts';
import { frameDocument } from './frame.ts';
import { html } from './html.ts';
import { page, type PageContext } from './layout.ts';
import { deadLettersPage } from './pages/dead-letters.ts';
import { deliveryPage } from './pages/delivery.ts';
import { messagePage } from './pages/message.ts';
import { messagesPage } from './pages/messages.ts';
import { overviewPage } from './pages/overview.ts';
import { confirmReplayPage } from './pages/replay.ts';
import type { Session } from './session.ts';

/** What a route answers: a console page, the sandboxed HTML of a message, or a redirect. */
export type RouteResult = { status: number; page: string } | { status: number; frame: string } | { redirect: string };

// A selection is what fits on the dead-letters page; a route's replay has no such bound.
const MAX_SELECTION = 1000;
const DEAD_LETTERS_SHOWN = 200;

/** The console's pages, each a read or an action through the admin functions. */
export function createRoutes(deps: { deliveries: DeliveryAdmin; messages: MessageAdmin; version: string; now: () => number; csrf: (s: Session) => string }) {
  const { deliveries, messages } = deps;
  const context = (session: Session): PageContext => ({ csrf: deps.csrf(session), version: deps.version });
  const ok = (body: string) => ({ status: 200, page: body });
  const notFound = (ctx: PageContext, what: string) => ({
    status: 404,
    page: page({ title: 'Not found', section: null, ctx, body: html`<h1>Not found</h1><p>${what}</p><p><a href="/console/">Overview</a></p>` }),
  });

  return {
    async get(path: string, params: URLSearchParams, session: Session): Promise<RouteResult> {
      const ctx = context(session);
      if (path === '/console/') {
        const [overview, oldest, deadLetters] = await Promise.all([deliveries.overview(), messages.oldest(), deliveries.listDeadLetters({ limit: 5 })]);
        return ok(overviewPage(ctx, { overview, oldest, deadLetters, retentionMs: messages.retentionMs, now: deps.now() }));
      }
      if (path === '/console/messages') {
        const parsed = parseMessageQuery(params);
        const query = 'error' in parsed ? {} : parsed;
        const list = await messages.list(query);
        const error = 'error' in parsed ? parsed.error : undefined;
        return ok(messagesPage(ctx, { query, ...list, retentionMs: messages.retentionMs, now: deps.now(), ...(error ? { error } : {}) }));
      }
      const message = /^\/console\/messages\/([^/]+)(\/html)?$/.exec(path);
      if (message) {
        const found = await messages.show(decodeURIComponent(message[1]!));
        if (message[2]) return found?.payload?.message.html ? { status: 200, frame: frameDocument(found.payload.message) } : { status: 404, frame: '' };
        return found ? ok(messagePage(ctx, found)) : notFound(ctx, 'No such message: it may be older than the retention.');
      }
      const delivery = /^\/console\/deliveries\/([^/]+)$/.exec(path);
      if (delivery) {
        const view = await deliveries.show(decodeURIComponent(delivery[1]!));
        const replayed = params.has('replayed') ? params.get('replayed') !== '0' : null;
        return view ? ok(deliveryPage(ctx, view, { replayed })) : notFound(ctx, 'No such delivery: it may be older than the retention.');
      }
      if (path === '/console/dead-letters') {
        const routeParam = params.get('route')?.trim() || undefined;
        const route = routeParam === undefined ? undefined : (normalizeDomain(routeParam) ?? undefined);
        const sinceParam = params.get('since') || undefined;
        const since = sinceParam === undefined ? undefined : Date.parse(sinceParam);
        const error = routeParam !== undefined && route === undefined ? 'Route must be a domain.' : Number.isNaN(since) ? 'That time could not be read.' : undefined;
        const sinceMs = Number.isNaN(since) ? undefined : since;
        const list = await deliveries.listDeadLetters({ route, since: sinceMs, limit: DEAD_LETTERS_SHOWN });
        const replayed = params.has('replayed') ? Number(params.get('replayed')) || 0 : null;
        return ok(deadLettersPage(ctx, { route, since: sinceMs, list, limit: DEAD_LETTERS_SHOWN, replayed, ...(error ? { error } : {}) }));
      }
      return notFound(ctx, 'There is no such page in the console.');
    },

    async post(path: string, form: URLSearchParams, session: Session): Promise<RouteResult> {
      const ctx = context(session);
      if (path !== '/console/replay') return notFound(ctx, 'There is no such action.');
      const route = form.get('route') ? normalizeDomain(form.get('route')!) : null;
      const ids = [...new Set(form.getAll('ids'))].slice(0, MAX_SELECTION);
      if (form.get('confirm') !== 'yes') {
        const found = route
          ? await deliveries.listDeadLetters({ route, limit: MAX_SELECTION })
          : (await Promise.all(ids.map((id) => deliveries.show(id)))).filter((v) => v?.state === 'dead-letter').map((v) => v!);
        return ok(confirmReplayPage(ctx, { ids, route, found }));
      }
      // The same calls as `mxpost dead-letters replay` and POST /v1/dead-letters/…/replay.
      const replayed = route ? await deliveries.replayAll({ route }) : (await Promise.all(ids.map(async (id) => ((await deliveries.replay(id)) ? id : null)))).filter(Boolean);
      if (!route && ids.length === 1) return { redirect: `/console/deliveries/${encodeURIComponent(ids[0]!)}?replayed=${replayed.length}` };
      return { redirect: `/console/dead-letters?replayed=${replayed.length}${route ? `&route=${encodeURIComponent(route)}` : ''}` };
    },
  };
}
