import { html } from '../html.ts';
import { page } from '../layout.ts';

export function loginPage(options: { next: string; error: string | null }): string {
  const body = html`
<div class="login">
<h1>Sign in to the mxpost console</h1>
<p class="muted">Use the admin token: the value of <code>MXPOST_ADMIN_TOKEN</code>. The session lasts 12 hours, in this browser only.</p>
${options.error ? html`<p class="notice bad" role="alert">${options.error}</p>` : ''}
<form method="post" action="/console/login">
  <input type="hidden" name="next" value="${options.next}">
  <div class="field"><label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus></div>
  <p><button type="submit" class="primary">Sign in</button></p>
</form>
</div>`;
  return page({ title: 'Sign in', section: null, ctx: null, body });
}
