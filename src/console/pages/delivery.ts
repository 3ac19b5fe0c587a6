import type { DeliveryView } from '../../delivery/admin.ts';
import { html, type Markup } from '../html.ts';
import { longList, messageLink, notice, page, segment, stateBadge, time, type PageContext } from '../layout.ts';

/** Every attempt of a delivery: when, how long, what came back, and the start of the answer. */
export function attemptsTable(view: DeliveryView): Markup {
  if (view.attempts.length === 0) return html`<p class="muted">No attempt yet.</p>`;
  return html`<div class="table-wrap"><table class="attempts">
  <thead><tr><th scope="col">#</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Outcome</th><th scope="col">Status or error</th><th scope="col">Response</th></tr></thead>
  <tbody>
  ${view.attempts.map((a, i) => html`${i > 0 && a.attempt <= view.attempts[i - 1]!.attempt ? html`<tr class="replay-mark"><td colspan="6">Replayed: a fresh retry window</td></tr>` : ''}<tr>
    <td data-label="#">${i + 1}</td>
    <td data-label="Started">${time(a.at)}</td>
    <td data-label="Took">${a.durationMs} ms</td>
    <td data-label="Outcome">${a.outcome === 'delivered' ? stateBadge('completed') : a.outcome === 'retry' ? stateBadge('delayed') : stateBadge('dead-letter')}
      ${a.nextAttemptAt ? html`<span class="muted small">next ${time(a.nextAttemptAt)}</span>` : ''}</td>
    <td data-label="Status or error" class="wrap">${a.outcome === 'delivered' || !a.reason ? html`<strong>HTTP ${a.status}</strong>` : a.reason}</td>
    <td data-label="Response">${a.responseStart ? html`<pre class="response">${a.responseStart}</pre>` : html`<span class="muted">—</span>`}</td>
  </tr>`)}
  </tbody></table></div>`;
}

/** The button that starts a replay: it leads to a confirmation, never replays at once. */
export function replayButton(ctx: PageContext, id: string): Markup {
  return html`<form method="post" action="/console/replay" class="inline">
    <input type="hidden" name="csrf" value="${ctx.csrf}">
    <input type="hidden" name="ids" value="${id}">
    <button type="submit">Replay…</button>
  </form>`;
}

/** A delivery as a card: where it goes, where it stands, its attempts. */
export function deliveryCard(ctx: PageContext, view: DeliveryView, heading: 'h2' | 'h3' = 'h3'): Markup {
  const title = html`<a href="${`/console/deliveries/${segment(view.id)}`}">${view.id}</a>`;
  return html`<article class="delivery" data-delivery-id="${view.id}" data-state="${view.state}">
  <header class="delivery-head">
    ${heading === 'h2' ? html`<h2>${title}</h2>` : html`<h3>${title}</h3>`}
    ${stateBadge(view.state)}
    ${view.state === 'dead-letter' ? replayButton(ctx, view.id) : ''}
  </header>
  <dl class="facts">
    <dt>Endpoint</dt><dd class="url">${view.url}</dd>
    <dt>Route</dt><dd>${view.domain}</dd>
    <dt>Recipients</dt><dd class="wrap">${longList(view.recipients)}</dd>
    ${view.deadLetteredAt ? html`<dt>Dead-lettered</dt><dd>${time(view.deadLetteredAt)}</dd>` : ''}
    ${view.reason ? html`<dt>Reason</dt><dd class="wrap reason">${view.reason}</dd>` : ''}
  </dl>
  <h4>Attempts</h4>
  ${attemptsTable(view)}
</article>`;
}

export function deliveryPage(ctx: PageContext, view: DeliveryView, options: { replayed: boolean | null }): string {
  const body = html`
<p class="crumbs">${messageLink(view.queueId, view.subject || '(no subject)')} › delivery</p>
${options.replayed === true ? notice('Replayed: the delivery is queued again with the same webhook-id and a fresh retry window.') : ''}
${options.replayed === false ? notice('Not replayed: it was no longer a dead letter.', 'bad') : ''}
<div id="live"${view.state === 'completed' || view.state === 'dead-letter' ? '' : html` data-refresh="2000"`}>
${deliveryCard(ctx, view, 'h2')}
<p class="muted">Received ${time(view.receivedAt)} · <a href="${`/v1/deliveries/${segment(view.id)}`}">as JSON</a> · <a href="${`/v1/deliveries/${segment(view.id)}/payload`}">payload</a></p>
</div>`;
  return page({ title: `Delivery ${view.id}`, section: 'messages', ctx, body });
}
