import type { AuthSummary } from '../delivery/messages.ts';
import type { EmailAddress } from '../message/types.ts';
import { html, type Markup, type Renderable } from './html.ts';

/** What every page of a signed-in operator carries: the CSRF token for its forms. */
export interface PageContext {
  readonly csrf: string;
  readonly version: string;
}

export type Section = 'overview' | 'messages' | 'dead-letters' | null;

const NAV: [Exclude<Section, null>, string, string][] = [
  ['overview', 'Overview', '/console/'],
  ['messages', 'Messages', '/console/messages'],
  ['dead-letters', 'Dead letters', '/console/dead-letters'],
];

/** A whole page. `ctx` is null for the sign-in page, which has no navigation. */
export function page(options: { title: string; section: Section; ctx: PageContext | null; body: Markup }): string {
  const { ctx } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · mxpost</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/console/">mxpost</a>
  ${ctx && html`<nav aria-label="Console">
    ${NAV.map(([id, label, url]) => html`<a href="${url}"${id === options.section ? html` aria-current="page"` : ''}>${label}</a>`)}
  </nav>
  <form class="logout" method="post" action="/console/logout">
    <input type="hidden" name="csrf" value="${ctx.csrf}">
    <button type="submit" class="link">Sign out</button>
  </form>`}
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
<footer class="foot">mxpost ${ctx?.version ?? ''} · times in your time zone</footer>
</body>
</html>
`.value;
}

/** An instant: ISO in `datetime` for the script to show in the viewer's zone; UTC until it does. */
export function time(iso: string | null | undefined): Markup {
  if (!iso) return html`<span class="muted">—</span>`;
  const utc = iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  return html`<time datetime="${iso}">${utc}</time>`;
}

export function duration(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  for (const [size, name] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? '' : 's'}`;
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

type Tone = 'ok' | 'bad' | 'warn' | 'pending' | 'muted';
const STATES: Record<string, [string, Tone]> = {
  waiting: ['queued', 'pending'],
  prioritized: ['queued', 'pending'],
  'waiting-children': ['queued', 'pending'],
  active: ['sending', 'pending'],
  delayed: ['retrying', 'warn'],
  held: ['held', 'warn'],
  completed: ['delivered', 'ok'],
  'dead-letter': ['dead letter', 'bad'],
  unknown: ['expired', 'muted'],
};

export function badge(label: string, tone: Tone, title?: string): Markup {
  return html`<span class="badge ${tone}"${title ? html` title="${title}"` : ''}>${label}</span>`;
}

/** One delivery's state, as a word (colour is never the only sign). */
export function stateBadge(state: string): Markup {
  const [label, tone] = STATES[state] ?? [state, 'muted'];
  return badge(label, tone);
}

/** A message's deliveries in one badge: the worst state wins; "2 of 3" when they differ. */
export function messageStateBadge(states: readonly string[], dropped = 0): Markup {
  // Every recipient dropped by a rule: accepted, and nothing to deliver.
  if (states.length === 0 && dropped > 0) return badge('dropped', 'muted');
  const order = ['dead-letter', 'held', 'delayed', 'active', 'waiting', 'prioritized', 'waiting-children', 'unknown', 'completed'];
  const worst = [...states].sort((a, b) => order.indexOf(a) - order.indexOf(b))[0] ?? 'unknown';
  const [label, tone] = STATES[worst] ?? [worst, 'muted'];
  const count = states.filter((s) => s === worst).length;
  return badge(states.length > 1 && count < states.length ? `${label} ${count}/${states.length}` : label, tone);
}

const RESULT_TONES: Record<string, Tone> = { pass: 'ok', fail: 'bad', softfail: 'warn', temperror: 'warn', permerror: 'bad', none: 'muted', neutral: 'muted', policy: 'warn' };

export function resultBadge(check: string, result: string): Markup {
  return badge(check ? `${check} ${result}` : result, RESULT_TONES[result] ?? 'muted');
}

/** The verdicts of a list row: one badge when all pass, else each check that did not. */
export function authBadges(auth: AuthSummary | null): Markup {
  if (!auth) return html`<span class="muted">—</span>`;
  const checks: [string, string][] = [['SPF', auth.spf], ['DKIM', auth.dkim], ['DMARC', auth.dmarc]];
  const title = checks.map(([c, r]) => `${c} ${r}`).join(', ');
  const failing = checks.filter(([, r]) => r !== 'pass');
  return html`<span class="badges" title="${title}">${failing.length === 0 ? badge('SPF DKIM DMARC pass', 'ok') : failing.map(([c, r]) => resultBadge(c, r))}${
    auth.quarantined ? badge('quarantined', 'warn') : ''
  }</span>`;
}

export function address(a: EmailAddress): Markup {
  return a.name ? html`<span title="${a.address}">${a.name}</span> <span class="muted addr">&lt;${a.address}&gt;</span>` : html`<span class="addr">${a.address}</span>`;
}

/** The first few of a list and how many more, on one line, so that 100 recipients cannot break a row. */
export function shortList(items: readonly string[], shown = 1): Markup {
  if (items.length === 0) return html`<span class="muted">—</span>`;
  const more = items.length - shown;
  return html`<span class="one-line" title="${items.join(', ')}"><span class="first">${items.slice(0, shown).join(', ')}</span>${
    more > 0 ? html`<span class="more">+${more} more</span>` : ''
  }</span>`;
}

/** A whole list on a detail page: the first ten, the rest behind a disclosure. */
export function longList(items: readonly Renderable[], shown = 10): Markup {
  const join = (list: readonly Renderable[]) => list.map((item, i) => html`${i > 0 ? ', ' : ''}${item}`);
  if (items.length <= shown + 2) return html`${join(items)}`;
  return html`${join(items.slice(0, shown))}
    <details class="rest"><summary>and ${items.length - shown} more</summary>${join(items.slice(shown))}</details>`;
}

export function segment(value: string): string {
  return encodeURIComponent(value);
}

export function messageLink(queueId: string, label: Renderable): Markup {
  return html`<a href="${`/console/messages/${segment(queueId)}`}">${label}</a>`;
}

export function deliveryLink(id: string, label: Renderable = id): Markup {
  return html`<a href="${`/console/deliveries/${segment(id)}`}">${label}</a>`;
}

export function notice(text: Renderable, tone: 'ok' | 'bad' = 'ok'): Markup {
  return html`<p class="notice ${tone}" role="status">${text}</p>`;
}

