import type { DeliveryView } from '../../delivery/admin.ts';
import type { MessageSummary } from '../../delivery/messages.ts';
import type { Payload } from '../../message/payload.ts';
import { html, type Markup } from '../html.ts';
import { address, longList, messageStateBadge, page, segment, time, type PageContext } from '../layout.ts';
import { authSection } from './verdicts.ts';
import { deliveryCard } from './delivery.ts';

// The payload can carry attachments' content: the page shows this much of it,
// and links the whole document.
const JSON_SHOWN_CHARS = 200_000;

export interface MessageData {
  readonly message: MessageSummary;
  readonly deliveries: readonly DeliveryView[];
  readonly payload: Payload | null;
}

export function messagePage(ctx: PageContext, data: MessageData): string {
  const { message: s, payload } = data;
  const m = payload?.message;
  const base = `/console/messages/${segment(s.queueId)}`;
  const sections: [string, string][] = [
    ['deliveries', 'Deliveries'], ['envelope', 'Envelope'], ['auth', 'Authentication'], ['headers', 'Headers'],
    ['text', 'Text'], ['html', 'HTML'], ['attachments', 'Attachments'], ['payload', 'Payload JSON'],
  ];
  const body = html`
<p class="crumbs"><a href="/console/messages">Messages</a> › ${s.queueId}</p>
<h1 class="subject">${s.subject || html`<span class="muted">(no subject)</span>`}</h1>
<dl class="facts summary">
  <dt>From</dt><dd class="wrap">${s.from.length > 0 ? longList(s.from.map(address)) : s.mailFrom}</dd>
  <dt>To</dt><dd class="wrap">${longList(s.to.length > 0 ? s.to.map(address) : s.rcptTo)}</dd>
  <dt>Received</dt><dd>${time(s.receivedAt)}</dd>
  <dt>Message-ID</dt><dd class="wrap"><code>${s.messageId ?? '—'}</code></dd>
  <dt>Queue id</dt><dd><code>${s.queueId}</code> · <a href="${`/v1/messages/${segment(s.queueId)}`}">as JSON</a></dd>
  <dt>Delivery</dt><dd>${messageStateBadge(data.deliveries.map((d) => d.state), s.dropped?.length ?? 0)}</dd>
</dl>
<nav class="toc" aria-label="On this page">${sections.map(([id, label]) => html`<a href="${`#${id}`}">${label}</a>`)}</nav>

<section id="deliveries" aria-labelledby="deliveries-h">
  <h2 id="deliveries-h">Deliveries</h2>
  <div id="live"${data.deliveries.every((d) => d.state === 'completed' || d.state === 'dead-letter') ? '' : html` data-refresh="3000"`}>
  ${data.deliveries.length === 0 && !s.dropped ? html`<p class="muted">Its deliveries are no longer kept.</p>` : data.deliveries.map((d) => deliveryCard(ctx, d))}
  </div>
  ${(s.dropped ?? []).map((d) => html`<p>Dropped by rule <code>${d.rule}</code>: <code>${d.recipient}</code> (accepted, delivered nowhere)</p>`)}
</section>

<section id="envelope" aria-labelledby="envelope-h">
  <h2 id="envelope-h">Envelope</h2>
  <dl class="facts">
    <dt>MAIL FROM</dt><dd class="wrap"><code>${s.mailFrom === '' ? '<>' : s.mailFrom}</code></dd>
    <dt>RCPT TO</dt><dd class="wrap">${longList(s.rcptTo.map((r) => html`<code>${r}</code>`))}</dd>
    <dt>Client</dt><dd><code>${payload ? `${payload.envelope.remoteAddress}:${payload.envelope.remotePort}` : s.remoteAddress}</code></dd>
    ${payload ? html`<dt>HELO</dt><dd class="wrap"><code>${payload.envelope.helo}</code></dd>` : ''}
    <dt>Routes</dt><dd>${s.routes.join(', ')}</dd>
    <dt>Size</dt><dd>${s.size.toLocaleString('en')} bytes</dd>
  </dl>
</section>

${payload === null ? (data.deliveries.length === 0 && s.dropped ? html`<p class="notice">Rules dropped every recipient, so the message itself was not stored: only the summary above is kept.</p>` : html`<p class="notice bad">The payload is no longer kept (MXPOST_RETENTION): only the summary above is left.</p>`) : html`
<section id="auth" aria-labelledby="auth-h">
  <h2 id="auth-h">Authentication</h2>
  ${payload.auth ? authSection(payload.auth) : html`<p class="muted">No verdicts were recorded.</p>`}
</section>

${m!.parseWarnings.length > 0 ? html`<div class="notice bad"><p>The MIME was not well-formed; this is mxpost's best reading of it:</p>
  <ul>${m!.parseWarnings.map((w) => html`<li><code>${w.code}</code> ${w.message}</li>`)}</ul></div>` : ''}

<section id="headers" aria-labelledby="headers-h">
  <h2 id="headers-h">Headers</h2>
  <details><summary>${m!.headers.length} header fields, in order</summary>
  <div class="table-wrap"><table class="headers"><tbody>
    ${m!.headers.map((h) => html`<tr><th scope="row">${h.name}</th><td>${h.value}</td></tr>`)}
  </tbody></table></div></details>
</section>

<section id="text" aria-labelledby="text-h">
  <h2 id="text-h">Text</h2>
  ${m!.text ? html`<pre class="body-text">${m!.text}</pre>` : html`<p class="muted">No text part.</p>`}
</section>

<section id="html" aria-labelledby="html-h">
  <h2 id="html-h">HTML</h2>
  ${m!.html
    ? html`<p class="muted small">Shown sandboxed: scripts, forms and remote content (images, fonts, styles from the web) do not run or load.</p>
      <iframe class="html-body" sandbox="" referrerpolicy="no-referrer" loading="lazy" title="HTML body of the message, sandboxed" src="${`${base}/html`}"></iframe>`
    : html`<p class="muted">No HTML part.</p>`}
</section>

<section id="attachments" aria-labelledby="attachments-h">
  <h2 id="attachments-h">Attachments</h2>
  ${m!.attachments.length === 0 ? html`<p class="muted">None.</p>` : attachmentTable(m!.attachments)}
</section>

<section id="payload" aria-labelledby="payload-h">
  <h2 id="payload-h">Payload JSON</h2>
  ${payloadJson(payload, data.deliveries)}
</section>`}`;
  return page({ title: s.subject || s.queueId, section: 'messages', ctx, body });
}

function attachmentTable(list: NonNullable<Payload['message']>['attachments']): Markup {
  return html`<div class="table-wrap"><table class="attachments">
  <thead><tr><th scope="col">File name</th><th scope="col">Type</th><th scope="col">Size</th><th scope="col">Disposition</th><th scope="col">Content-ID</th><th scope="col">SHA-256</th></tr></thead>
  <tbody>${list.map((a) => html`<tr>
    <td data-label="File name" class="wrap">${a.filename ?? html`<span class="muted">(none)</span>`}</td>
    <td data-label="Type" class="wrap">${a.contentType}</td>
    <td data-label="Size">${a.size.toLocaleString('en')} bytes${'contentOmitted' in a ? html`<br><span class="muted small">content not in the payload (${a.contentOmitted})</span>` : ''}</td>
    <td data-label="Disposition">${a.disposition ?? '—'}</td>
    <td data-label="Content-ID" class="wrap">${a.contentId ?? '—'}</td>
    <td data-label="SHA-256" class="hash"><code>${a.sha256}</code></td>
  </tr>`)}</tbody></table></div>`;
}

function payloadJson(payload: Payload, deliveries: readonly DeliveryView[]): Markup {
  const text = JSON.stringify(payload, null, 2);
  const cut = text.length > JSON_SHOWN_CHARS;
  return html`<p class="muted small">As POSTed for delivery <code>${payload.id}</code>; each delivery's differs only in its id, route and recipients.
    Whole documents: ${deliveries.map((d, i) => html`${i > 0 ? ', ' : ''}<a href="${`/v1/deliveries/${segment(d.id)}/payload`}">${d.id}</a>`)}.</p>
  <details><summary>Show the JSON${cut ? ` (first ${JSON_SHOWN_CHARS.toLocaleString('en')} characters)` : ''}</summary>
  <pre class="json">${cut ? `${text.slice(0, JSON_SHOWN_CHARS)}\n…` : text}</pre></details>`;
}
