import type { AuthVerdicts } from '../../auth/schema.ts';
import { html, type Markup } from '../html.ts';
import { badge, resultBadge } from '../layout.ts';

/** SPF, each DKIM signature, DMARC and ARC: the verdict, what was checked, and why. */
export function authSection(auth: AuthVerdicts): Markup {
  const { spf, dmarc, arc } = auth;
  const rows: [string, string, Markup][] = [
    ['SPF', spf.result, html`<code>${spf.domain}</code> (${spf.identity === 'helo' ? 'HELO name' : 'MAIL FROM'})${reason(spf.reason)}${
      spf.explanation ? html`<br><span class="muted">The domain explains: ${spf.explanation}</span>` : ''
    }`],
    ...(auth.dkim.length === 0
      ? [['DKIM', 'none', html`<span class="muted">not signed</span>`] as [string, string, Markup]]
      : auth.dkim.map((d): [string, string, Markup] => [
          'DKIM',
          d.result,
          html`<code>d=${d.domain}</code> <code>s=${d.selector}</code> ${d.algorithm}${d.aligned ? html` · ${badge('aligned', 'ok')}` : ''}${reason(d.reason)}`,
        ])),
    ['DMARC', dmarc.result, html`${dmarc.domain ? html`<code>${dmarc.domain}</code>` : html`<span class="muted">no single From domain</span>`}${
      dmarc.policy ? html` · policy <code>p=${dmarc.policy}</code>${dmarc.appliedPolicy && dmarc.appliedPolicy !== dmarc.policy ? html` (applied: ${dmarc.appliedPolicy})` : ''}` : ' · no record'
    } · aligned: SPF ${dmarc.alignment.spf ? 'yes' : 'no'}, DKIM ${dmarc.alignment.dkim ? 'yes' : 'no'}${reason(dmarc.reason)}`],
    ['ARC', arc.result, html`${arc.instances} set${arc.instances === 1 ? '' : 's'}${reason(arc.reason)}`],
  ];
  return html`<div class="table-wrap"><table class="verdicts">
  <thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Details</th></tr></thead>
  <tbody>${rows.map(([check, result, details]) => html`<tr data-check="${check}">
    <th scope="row">${check}</th><td>${resultBadge('', result)}</td><td class="wrap">${details}</td></tr>`)}</tbody>
  </table></div>
  ${auth.quarantined ? html`<p class="notice bad">Quarantined: the route's policy marks this message (DMARC fail under p=quarantine).</p>` : ''}
  <h3>Authentication-Results</h3>
  <pre class="wrap-pre">${auth.authenticationResults}</pre>`;
}

function reason(text: string | null): Markup {
  return text ? html`<br><span class="muted">${text}</span>` : html``;
}
