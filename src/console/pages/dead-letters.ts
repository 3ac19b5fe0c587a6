import type { DeliveryView } from '../../delivery/admin.ts';
import { href, html, type Markup } from '../html.ts';
import { deliveryLink, notice, page, shortList, time, type PageContext } from '../layout.ts';

export interface DeadLettersData {
  readonly route: string | undefined;
  readonly since: number | undefined;
  readonly list: readonly DeliveryView[];
  readonly limit: number;
  readonly replayed: number | null;
  readonly error?: string;
}

export function deadLettersPage(ctx: PageContext, data: DeadLettersData): string {
  const sinceIso = data.since === undefined ? '' : new Date(data.since).toISOString();
  const body = html`
<h1>Dead letters</h1>
<p class="muted">Deliveries that ran out of retries or were refused for good, newest first. A replay sends one again with the same webhook-id and a fresh retry window.</p>
${data.replayed !== null ? notice(`Replayed ${data.replayed} dead letter${data.replayed === 1 ? '' : 's'}: they are queued again.`) : ''}
${data.error ? html`<p class="notice bad" role="alert">${data.error}</p>` : ''}
<form class="search" method="get" action="/console/dead-letters">
  <div class="field"><label for="route">Route</label><input id="route" name="route" value="${data.route ?? ''}" placeholder="domain" autocomplete="off"></div>
  <div class="field"><label for="since-local">Dead-lettered after</label>
    <input id="since-local" type="datetime-local" step="1" data-utc="since"><input type="hidden" name="since" value="${sinceIso}"></div>
  <div class="actions"><button type="submit">Filter</button>${data.route || data.since !== undefined ? html` <a href="/console/dead-letters">Clear</a>` : ''}</div>
</form>
<div id="live" data-refresh="5000" data-pause-on-input="true">
${data.list.length === 0 ? html`<p class="empty">No dead letters${data.route ? ` for ${data.route}` : ''}.</p>` : table(ctx, data)}
</div>
${data.route && data.list.length > 0 ? html`<form method="post" action="/console/replay" class="route-replay">
  <input type="hidden" name="csrf" value="${ctx.csrf}">
  <input type="hidden" name="route" value="${data.route}">
  <button type="submit">Replay all dead letters of ${data.route}…</button>
</form>` : html`<p class="muted small">To replay every dead letter of a route, filter by the route first.</p>`}`;
  return page({ title: 'Dead letters', section: 'dead-letters', ctx, body });
}

function table(ctx: PageContext, data: DeadLettersData): Markup {
  return html`<form method="post" action="/console/replay" id="selection">
  <input type="hidden" name="csrf" value="${ctx.csrf}">
  <div class="table-wrap"><table class="dead-letters">
  <thead><tr>
    <th scope="col" class="col-check"><input type="checkbox" data-select-all="ids" aria-label="Select all"></th>
    <th scope="col" class="col-time">Dead-lettered</th><th scope="col" class="col-subject">Message</th><th scope="col" class="col-route">Route</th><th scope="col">Reason</th>
  </tr></thead>
  <tbody>
  ${data.list.map((d) => html`<tr data-delivery-id="${d.id}">
    <td class="col-check"><input type="checkbox" name="ids" value="${d.id}" aria-label="${`Select ${d.id}`}"></td>
    <td data-label="Dead-lettered">${time(d.deadLetteredAt)}</td>
    <td data-label="Message" class="clip">${deliveryLink(d.id, d.subject || '(no subject)')}<span class="muted small">to ${shortList(d.recipients)}</span></td>
    <td data-label="Route" class="clip"><a href="${href('/console/dead-letters', { route: d.domain })}">${d.domain}</a></td>
    <td data-label="Reason" class="wrap reason">${d.reason ?? ''}</td>
  </tr>`)}
  </tbody></table></div>
  ${data.list.length === data.limit ? html`<p class="muted small">Showing the newest ${data.limit}; narrow by route or time to see older ones.</p>` : ''}
  <p><button type="submit">Replay selected…</button></p>
</form>`;
}
