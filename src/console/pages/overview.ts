import type { DeliveryView, Overview } from '../../delivery/admin.ts';
import type { EndpointSummary } from '../../delivery/health.ts';
import { html, type Markup } from '../html.ts';
import { badge, deliveryLink, duration, page, time, type PageContext } from '../layout.ts';

export interface OverviewData {
  readonly overview: Overview;
  readonly retentionMs: number;
  readonly oldest: string | null;
  readonly now: number;
  readonly deadLetters: readonly DeliveryView[];
}

/** What the console can still see: records older than the retention are gone from Redis. */
export function retentionNote(retentionMs: number, oldest: string | null, now: number): Markup {
  return html`<p class="retention">Messages, deliveries and attempts are kept for <strong>${duration(retentionMs)}</strong>
    (<code>MXPOST_RETENTION</code>): the console sees back to ${time(new Date(now - retentionMs).toISOString())}.
    ${oldest ? html`The oldest message kept arrived ${time(oldest)}.` : 'No message is kept at the moment.'}</p>`;
}

export function overviewPage(ctx: PageContext, data: OverviewData): string {
  const q = data.overview.queue;
  const n = (...states: string[]) => states.reduce((sum, s) => sum + (q[s] ?? 0), 0);
  const cards: [string, number, string, string | null][] = [
    ['Queued', n('waiting', 'prioritized'), 'waiting for a worker', null],
    ['Sending', n('active'), 'attempts in progress', null],
    ['Retrying', n('delayed'), 'waiting for the next attempt', null],
    ['Delivered', n('completed'), `in the last ${duration(data.retentionMs)}`, '/console/messages'],
    ['Dead letters', n('dead-letter'), 'out of retries: replay them', '/console/dead-letters'],
  ];
  const body = html`
<h1>Overview</h1>
<div id="live" data-refresh="3000">
<section aria-labelledby="queue-h">
  <h2 id="queue-h">Queue</h2>
  <ul class="cards">
    ${cards.map(([label, count, hint, link]) => html`<li class="card${label === 'Dead letters' && count > 0 ? ' alert' : ''}" data-state="${label}">
      <span class="count">${count}</span>
      <span class="label">${link ? html`<a href="${link}">${label}</a>` : label}</span>
      <span class="hint">${hint}</span>
    </li>`)}
  </ul>
</section>
<section aria-labelledby="health-h">
  <h2 id="health-h">Endpoints</h2>
  <p class="muted">${data.overview.workers === 0
    ? 'No worker has reported in the last few seconds.'
    : `As ${data.overview.workers} worker${data.overview.workers === 1 ? '' : 's'} report${data.overview.workers === 1 ? 's' : ''} them; failure rate over the last 5 minutes.`}</p>
  ${data.overview.endpoints.length === 0 ? html`<p>No endpoint has been tried yet.</p>` : endpointTable(data.overview.endpoints)}
</section>
<section aria-labelledby="dead-h">
  <h2 id="dead-h">Latest dead letters</h2>
  ${data.deadLetters.length === 0
    ? html`<p>None. Every delivery has reached its endpoint or is still being tried.</p>`
    : html`<ul class="plain">${data.deadLetters.map((d) => html`<li>${time(d.deadLetteredAt)} · ${deliveryLink(d.id, d.subject || '(no subject)')} · <span class="muted">${d.domain}</span> · <span class="reason">${d.reason ?? ''}</span></li>`)}</ul>
       <p><a href="/console/dead-letters">All dead letters</a></p>`}
</section>
${retentionNote(data.retentionMs, data.oldest, data.now)}
</div>`;
  return page({ title: 'Overview', section: 'overview', ctx, body });
}

function endpointTable(endpoints: readonly EndpointSummary[]): Markup {
  return html`<div class="table-wrap"><table class="endpoints">
  <thead><tr><th scope="col">Endpoint</th><th scope="col">Circuit</th><th scope="col">Failure rate</th><th scope="col">Attempts</th><th scope="col">Failures in a row</th><th scope="col">In flight</th></tr></thead>
  <tbody>
  ${endpoints.map((e) => html`<tr>
    <td class="url" data-label="Endpoint">${e.endpoint}</td>
    <td data-label="Circuit">${circuit(e)}</td>
    <td data-label="Failure rate">${e.failureRate === null ? html`<span class="muted">—</span>` : `${Math.round(e.failureRate * 100)} %`}</td>
    <td data-label="Attempts">${e.attempts}</td>
    <td data-label="Failures in a row">${e.consecutiveFailures}</td>
    <td data-label="In flight">${e.inFlight}</td>
  </tr>`)}
  </tbody></table></div>`;
}

function circuit(e: EndpointSummary): Markup {
  if (e.state === 'closed') return badge('closed', 'ok', 'deliveries go through');
  const where = e.workers > 1 ? ` in ${e.openIn} of ${e.workers} workers` : '';
  if (e.state === 'half-open') return badge('half-open', 'warn', 'one probe decides');
  return html`${badge(`open${where}`, 'bad', 'deliveries wait without an attempt')} ${e.openUntil ? html`<span class="muted">until ${time(e.openUntil)}</span>` : ''}`;
}
