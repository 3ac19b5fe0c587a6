import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeliveryAdmin } from '../delivery/admin.ts';
import type { MessageAdmin } from '../delivery/messages.ts';
import type { RequestHandler } from '../http/server.ts';
import { FRAME_CSP } from './frame.ts';
import { loginPage } from './pages/login.ts';
import { createRoutes, type RouteResult } from './routes.ts';
import { createSessions, SESSION_MS, sessionCookie } from './session.ts';

/**
 * The web console under /console/, on the admin HTTP port. It reads and acts
 * through the same functions as the admin API and the CLI (delivery/admin.ts,
 * delivery/messages.ts), so the three cannot disagree. Off without
 * MXPOST_ADMIN_TOKEN; every page needs a session made from the token.
 */
export interface ConsoleOptions {
  readonly token: string;
  readonly deliveries: DeliveryAdmin;
  readonly messages: MessageAdmin;
  readonly version: string;
  readonly now?: () => number;
}

// Scripts and styles only from the console itself; no inline script at all, so
// that text from an email can never become code even if escaping failed.
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
};

const FORM_BYTES = 256 * 1024;

const ASSETS: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };

export function createConsole(options: ConsoleOptions): RequestHandler & { hasSession(req: IncomingMessage): boolean } {
  const now = options.now ?? Date.now;
  const sessions = createSessions(options.token, now);
  const assets = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(new URL(`./assets/${name}`, import.meta.url))]));
  const routes = createRoutes({ ...options, now, csrf: (s) => sessions.csrfToken(s) });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    if (path !== '/console' && !path.startsWith('/console/')) return false;
    const method = req.method ?? 'GET';
    if (path === '/console') return redirect(res, '/console/'), true;

    const asset = /^\/console\/assets\/([a-z.]+)$/.exec(path)?.[1];
    if (asset && assets.has(asset) && method === 'GET') {
      res.writeHead(200, { 'content-type': ASSETS[asset]!, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' }).end(assets.get(asset));
      return true;
    }

    if (path === '/console/login') {
      if (method === 'POST') {
        const form = await readForm(req);
        if (!sameOrigin(req) || !form) return sendPage(res, 400, loginPage({ next: '/console/', error: 'That form could not be read; try again.' })), true;
        const next = safeNext(form.get('next'));
        if (!sessions.isToken(form.get('token') ?? '')) return sendPage(res, 401, loginPage({ next, error: 'That is not the admin token.' })), true;
        const { cookie } = sessions.issue();
        res.setHeader('set-cookie', sessionCookie(cookie, { secure: isHttps(req), maxAgeMs: SESSION_MS }));
        return redirect(res, next), true;
      }
      return sendPage(res, 200, loginPage({ next: safeNext(url.searchParams.get('next')), error: null })), true;
    }

    const session = sessions.verify(req.headers.cookie);
    if (!session) {
      if (method === 'GET' || method === 'HEAD') return redirect(res, `/console/login?next=${encodeURIComponent(path + url.search)}`), true;
      return sendPage(res, 403, loginPage({ next: '/console/', error: 'Your session has ended: sign in again.' })), true;
    }

    if (method === 'POST') {
      const form = await readForm(req);
      if (!form || !sameOrigin(req) || !sessions.checkCsrf(session, form.get('csrf') ?? undefined)) {
        return sendPage(res, 403, loginPage({ next: '/console/', error: 'That form is out of date or came from another site; nothing was done. Sign in again.' })), true;
      }
      if (path === '/console/logout') {
        res.setHeader('set-cookie', sessionCookie('', { secure: isHttps(req), maxAgeMs: 0 }));
        return redirect(res, '/console/login'), true;
      }
      const result = await guarded(() => routes.post(path, form, session));
      return respond(res, result), true;
    }
    if (method !== 'GET' && method !== 'HEAD') return res.writeHead(405, { allow: 'GET, POST' }).end(), true;

    const result = await guarded(() => routes.get(path, url.searchParams, session));
    return respond(res, result), true;
  }

  return Object.assign(handle, { hasSession: (req: IncomingMessage) => sessions.verify(req.headers.cookie) !== null });
}

async function guarded<T>(run: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function respond(res: ServerResponse, result: RouteResult | { error: string }): void {
  if ('redirect' in result) return redirect(res, result.redirect);
  if ('error' in result) {
    res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(`The console cannot reach the queue right now: ${result.error}\n`);
    return;
  }
  if ('frame' in result) {
    res.writeHead(result.status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': FRAME_CSP, 'x-frame-options': 'SAMEORIGIN' });
    res.end(result.frame);
    return;
  }
  sendPage(res, result.status, result.page);
}

function sendPage(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY' }).end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store' }).end();
}

/**
 * Only a console path may follow sign-in, never another site: a path that
 * starts with `/console/` cannot be read as `//host` or `/\host`.
 */
function safeNext(next: string | null | undefined): string {
  return next?.startsWith('/console/') && !/[\\\s]/.test(next) ? next : '/console/';
}

function isHttps(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
}

/** Browsers say where a request came from; a POST from another site is refused before its CSRF token is even read. */
function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin';
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_BYTES) return null;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

