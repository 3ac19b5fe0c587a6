import { randomBytes } from 'node:crypto';

// Crockford's base32: no I, L, O or U, so ids survive being read aloud or retyped.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID: 48 bits of milliseconds then 80 random bits, 26 characters that sort
 * by time. It names one accepted message: the id in the SMTP 250 reply ("queued as …").
 */
export function newQueueId(now: number = Date.now()): string {
  let time = '';
  for (let i = 0, t = now; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  const random = randomBytes(16);
  let rest = '';
  for (let i = 0; i < 16; i++) rest += ALPHABET[random[i]! % 32];
  return time + rest;
}

/**
 * The id of one delivery of a message: stable across retries, the same in the
 * `webhook-id` header and the payload, so that endpoints can de-duplicate.
 * BullMQ refuses custom job ids with ':' in them; '-' is safe.
 */
export function deliveryId(queueId: string, index: number): string {
  return `${queueId}-${index + 1}`;
}
