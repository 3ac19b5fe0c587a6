import type { MessageQuery, MessageRow } from '../../delivery/messages.ts';
import { href, html, type Markup } from '../html.ts';
import { address, authBadges, messageStateBadge, page, segment, shortList, time, type PageContext } from '../layout.ts';
import { retentionNote } from './overview.ts';

export interface MessagesData {
  readonly query: MessageQuery;
  readonly messages: readonly MessageRow[];
  readonly nextCursor: string | null;
  readonly oldest: string | null;
  readonly retentionMs: number;
  readonly now: number;
  readonly error?: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

export function messagesPage(ctx: PageContext, data: MessagesData): string {
  const q = data.query;
  const filtered = Boolean(q.q || q.from || q.to || q.route || q.since !== undefined || q.until !== undefined);
  const params = { q: q.q, from: q.from, to: q.to, route: q.route, since: iso(q.since), until: iso(q.until) };
  const body = html`
<h1>Messages</h1>
<form class="search" method="get" action="/console/messages" role="search">
  <div class="field grow"><label for="q">Search</label>
    <input id="q" name="q" type="search" value="${q.q ?? ''}" placeholder="Subject, address or Message-ID" autocomplete="off"></div>
  <div class="field"><label for="from">From</label><input id="from" name="from" value="${q.from ?? ''}" autocomplete="off"></div>
  <div class="field"><label for="to">To</label><input id="to" name="to" value="${q.to ?? ''}" autocomplete="off"></div>
  <div class="field"><label for="route">Route</label><input id="route" name="route" value="${q.route ?? ''}" placeholder="domain" autocomplete="off"></div>
  <div class="field"><label for="since-local">Received after</label>
    <input id="since-local" type="datetime-local" step="1" data-utc="since"><input type="hidden" name="since" value="${params.since}"></div>
  <div class="field"><label for="until-local">Received before</label>
    <input id="until-local" type="datetime-local" step="1" data-utc="until"><input type="hidden" name="until" value="${params.until}"></div>
  <div class="actions"><button type="submit">Search</button>${filtered ? html` <a href="/console/messages">Clear</a>` : ''}</div>
</form>
${data.error ? html`<p class="notice bad" role="alert">${data.error}</p>` : ''}
<div id="live"${q.cursor ? '' : html` data-refresh="5000"`}>
${data.messages.length === 0
  ? html`<p class="empty">${filtered || q.cursor ? 'No message matches.' : 'No message has arrived yet.'}</p>`
  : messageTable(data.messages)}
<nav class="pager" aria-label="Pages">
  ${q.cursor ? html`<a href="${href('/console/messages', params)}">Newest</a>` : ''}
  ${data.nextCursor ? html`<a rel="next" href="${href('/console/messages', { ...params, cursor: data.nextCursor })}">Older messages</a>` : ''}
</nav>
${retentionNote(data.retentionMs, data.oldest, data.now)}
</div>`;
  return page({ title: 'Messages', section: 'messages', ctx, body });
}

function messageTable(rows: readonly MessageRow[]): Markup {
  return html`<div class="table-wrap"><table class="messages">
  <thead><tr><th scope="col" class="col-time">Received</th><th scope="col" class="col-from">From</th><th scope="col" class="col-to">To</th><th scope="col" class="col-subject">Subject</th><th scope="col" class="col-route">Route</th><th scope="col" class="col-auth">Auth</th><th scope="col" class="col-state">Delivery</th></tr></thead>
  <tbody>
  ${rows.map((m) => html`<tr data-queue-id="${m.queueId}">
    <td data-label="Received">${time(m.receivedAt)}</td>
    <td data-label="From" class="clip">${m.from[0] ? address(m.from[0]) : html`<span class="addr">${m.mailFrom || '<>'}</span>`}</td>
    <td data-label="To" class="clip">${shortList(m.rcptTo)}</td>
    <td data-label="Subject" class="clip subject"><a href="${`/console/messages/${segment(m.queueId)}`}" title="${m.subject}">${m.subject || html`<span class="muted">(no subject)</span>`}</a></td>
    <td data-label="Route" class="clip">${shortList(m.routes, 1)}</td>
    <td data-label="Auth">${authBadges(m.auth)}</td>
    <td data-label="Delivery">${messageStateBadge(Object.values(m.states), m.dropped?.length ?? 0)}</td>
  </tr>`)}
  </tbody></table></div>`;
}
