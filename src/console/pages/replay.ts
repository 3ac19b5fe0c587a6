import type { DeliveryView } from '../../delivery/admin.ts';
import { href, html } from '../html.ts';
import { deliveryLink, page, time, type PageContext } from '../layout.ts';

/** What a replay will send again: asked before it is done. */
export interface ReplayPlan {
  /** The dead letters chosen one by one; empty for a route. */
  readonly ids: readonly string[];
  readonly route: string | null;
  /** What is a dead letter now among them, to show. */
  readonly found: readonly DeliveryView[];
}

const SHOWN = 50;

export function confirmReplayPage(ctx: PageContext, plan: ReplayPlan): string {
  const count = plan.found.length;
  const what = plan.route ? `every dead letter of ${plan.route}` : `${count} dead letter${count === 1 ? '' : 's'}`;
  const back = plan.ids.length === 1 && !plan.route ? `/console/deliveries/${encodeURIComponent(plan.ids[0]!)}` : href('/console/dead-letters', { route: plan.route });
  const body = html`
<h1>Replay ${what}?</h1>
${count === 0
  ? html`<p class="notice bad">Nothing to replay: ${plan.route ? `${plan.route} has no dead letters` : 'none of these is a dead letter any more'}.</p>
    <p><a href="${back}">Back</a></p>`
  : html`<p>${count === 1 ? 'It is' : 'They are'} sent again to ${count === 1 ? 'its endpoint' : 'their endpoints'} with the same webhook-id and a fresh retry window.
    ${plan.route ? html`<strong>${count}</strong> ${count === 1 ? 'is' : 'are'} dead letters now; any that arrive before you confirm are replayed too.` : ''}</p>
  <ul class="plain replay-list">
    ${plan.found.slice(0, SHOWN).map((d) => html`<li>${deliveryLink(d.id, d.subject || '(no subject)')} <span class="muted">· ${d.domain} · ${time(d.deadLetteredAt)}</span><br><span class="reason small">${d.reason ?? ''}</span></li>`)}
    ${count > SHOWN ? html`<li class="muted">and ${count - SHOWN} more</li>` : ''}
  </ul>
  <form method="post" action="/console/replay" class="confirm">
    <input type="hidden" name="csrf" value="${ctx.csrf}">
    ${plan.route ? html`<input type="hidden" name="route" value="${plan.route}">` : plan.ids.map((id) => html`<input type="hidden" name="ids" value="${id}">`)}
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="primary" autofocus>Replay ${count === 1 ? 'it' : `${count}`}</button>
    <a class="button" href="${back}">Cancel</a>
  </form>`}`;
  return page({ title: 'Confirm replay', section: 'dead-letters', ctx, body });
}
