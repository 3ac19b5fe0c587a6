import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Console sessions, made from the admin token and needing no storage: the
 * cookie is `<expiry>.<nonce>.<mac>`, MACed with a key derived from the token.
 * Changing MXPOST_ADMIN_TOKEN therefore ends every session at once. The CSRF
 * token of a session is a second MAC over its nonce, so a form from another
 * site cannot know it.
 */
export const SESSION_COOKIE = 'mxpost_console';

// A working day: long enough for an incident, short enough that a forgotten
// laptop does not stay signed in for a week.
export const SESSION_MS = 12 * 60 * 60 * 1000;

export interface Session {
  readonly nonce: string;
  readonly expiresAt: number;
}

export function createSessions(token: string, now: () => number = Date.now) {
  const key = Buffer.from(hkdfSync('sha256', token, 'mxpost console', 'session cookie and csrf', 32));
  const mac = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  const same = (a: string, b: string) => {
    const [x, y] = [Buffer.from(a), Buffer.from(b)];
    return x.length === y.length && timingSafeEqual(x, y);
  };
  const digest = (text: string) => createHmac('sha256', 'mxpost token check').update(text).digest();

  return {
    /** Whether `given` is the admin token; compares digests so that its length does not leak. */
    isToken(given: string): boolean {
      return timingSafeEqual(digest(given), digest(token));
    },
    /** A new session and the cookie value that carries it. */
    issue(): { session: Session; cookie: string } {
      const session = { nonce: randomBytes(16).toString('base64url'), expiresAt: now() + SESSION_MS };
      const body = `${session.expiresAt}.${session.nonce}`;
      return { session, cookie: `${body}.${mac(`session.${body}`)}` };
    },
    /** The session of a Cookie header, or null when absent, forged, or expired. */
    verify(cookieHeader: string | undefined): Session | null {
      const value = readCookie(cookieHeader, SESSION_COOKIE);
      const match = value === null ? null : /^(\d{1,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value);
      if (!match) return null;
      const [, expiry, nonce, given] = match as unknown as [string, string, string, string];
      if (!same(given, mac(`session.${expiry}.${nonce}`))) return null;
      const expiresAt = Number(expiry);
      return expiresAt > now() ? { nonce, expiresAt } : null;
    },
    csrfToken(session: Session): string {
      return mac(`csrf.${session.nonce}`);
    },
    checkCsrf(session: Session, given: string | undefined): boolean {
      return typeof given === 'string' && same(given, mac(`csrf.${session.nonce}`));
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

/** One cookie's value from a Cookie header; null when it is not there. */
export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The Set-Cookie value: HttpOnly and SameSite=Strict always; Secure when the request came over HTTPS. */
export function sessionCookie(value: string, options: { secure: boolean; maxAgeMs: number }): string {
  const attributes = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(options.maxAgeMs / 1000)}`];
  if (options.secure) attributes.push('Secure');
  return attributes.join('; ');
}
