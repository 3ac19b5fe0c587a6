import { createHmac, randomBytes } from 'node:crypto';

// Standard Webhooks: secrets are "whsec_" + base64 of 24 to 64 random bytes.
const PREFIX = 'whsec_';
const MIN_BYTES = 24;
const MAX_BYTES = 64;

/** Why a signing secret is unusable, or null. Never echoes the secret. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(PREFIX)) return `must start with "${PREFIX}" (Standard Webhooks format; "mxpost new-secret" makes one)`;
  const body = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return `must be "${PREFIX}" followed by base64`;
  const bytes = Buffer.from(body, 'base64').length;
  if (bytes < MIN_BYTES || bytes > MAX_BYTES) return `must encode ${MIN_BYTES} to ${MAX_BYTES} bytes, this one has ${bytes}`;
  return null;
}

/**
 * The Standard Webhooks headers of one request: the id (the same on every
 * attempt, for de-duplication), the timestamp and, when the route has secrets,
 * their signatures of this exact body.
 */
export function webhookHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    ...(secrets.length > 0 ? { 'webhook-signature': signatureHeader(secrets, id, timestamp, body) } : {}),
  };
}

/** A new random secret in the Standard Webhooks format. */
export function newSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/**
 * The `webhook-signature` header: one `v1,<base64 HMAC-SHA256>` of
 * `id.timestamp.body` per secret, space-separated, so that an endpoint holding
 * either the new or the old secret verifies during a rotation.
 */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}
