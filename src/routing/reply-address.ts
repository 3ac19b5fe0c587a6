import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed reply addresses: `reply+<token>@domain`, where the token carries an
 * application id, an expiry and an HMAC under one of the route's signing secrets.
 * An application mints one per conversation (`Reply-To:`); when mail comes back,
 * the payload says whether the token is genuine, so the application can trust the
 * id without keeping a table of issued addresses.
 *
 * The token is unpadded base32 (RFC 4648), lower-case: some MTAs fold the case of
 * local parts, and base32 decodes the same either way. Layout, before encoding:
 * version (1 byte) | expiry, Unix seconds, 0 = never (4 bytes) | id (UTF-8) | MAC (10 bytes).
 * The MAC is HMAC-SHA256 over a label, the domain and the bytes before it, cut to
 * 80 bits: ample against forgery online, where each guess costs an SMTP session.
 */

const VERSION = 1;
const MAC_BYTES = 10;
const HEADER_BYTES = 5;
/** An id past this would push `reply+<token>` over the 64 octets RFC 5321 allows a local part. */
export const MAX_ID_BYTES = 20;
const ID_SHAPE = /^[A-Za-z0-9._:-]+$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export interface ReplyToken {
  readonly valid: boolean;
  /** The application id the token carries; null when it could not be read. */
  readonly id: string | null;
  /** ISO 8601, or null for a token that never expires or could not be read. */
  readonly expiresAt: string | null;
  /** Why it is not valid; null when it is. */
  readonly reason: 'malformed' | 'forged' | 'expired' | null;
}

/** Why an application id cannot go into a token, or null. */
export function replyIdProblem(id: string): string | null {
  if (!ID_SHAPE.test(id)) return 'must be letters, digits and . _ : - only';
  if (Buffer.byteLength(id) > MAX_ID_BYTES) return `must be at most ${MAX_ID_BYTES} characters, to keep the address within 64 octets`;
  return null;
}

/**
 * Mints `<localPart>+<token>@<domain>` signed with `secret` (a route's newest
 * `whsec_` secret). `ttlMs` null: the address never expires.
 */
export function mintReplyAddress(options: { domain: string; id: string; secret: string; ttlMs: number | null; localPart?: string; now?: number }): string {
  const problem = replyIdProblem(options.id);
  if (problem !== null) throw new RangeError(`reply address id ${problem}`);
  const domain = options.domain.toLowerCase();
  const expiry = options.ttlMs === null ? 0 : Math.ceil(((options.now ?? Date.now()) + options.ttlMs) / 1000);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(VERSION, 0);
  header.writeUInt32BE(expiry, 1);
  const body = Buffer.concat([header, Buffer.from(options.id, 'utf8')]);
  const token = base32Encode(Buffer.concat([body, mac(options.secret, domain, body)]));
  return `${options.localPart ?? 'reply'}+${token}@${domain}`;
}

/** Checks a token against every secret of the route (newest first, for rotation). */
export function verifyReplyToken(options: { token: string; domain: string; secrets: readonly string[]; now?: number }): ReplyToken {
  const bytes = base32Decode(options.token);
  if (bytes === null || bytes.length <= HEADER_BYTES + MAC_BYTES || bytes[0] !== VERSION) {
    return { valid: false, id: null, expiresAt: null, reason: 'malformed' };
  }
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  const given = bytes.subarray(bytes.length - MAC_BYTES);
  const domain = options.domain.toLowerCase();
  const genuine = options.secrets.some((secret) => timingSafeEqual(mac(secret, domain, body), given));
  const expiry = body.readUInt32BE(1);
  const expiresAt = expiry === 0 ? null : new Date(expiry * 1000).toISOString();
  const id = body.subarray(HEADER_BYTES).toString('utf8');
  // A forged token's id is attacker text: it is not reported.
  if (!genuine) return { valid: false, id: null, expiresAt: null, reason: 'forged' };
  if (expiry !== 0 && expiry * 1000 <= (options.now ?? Date.now())) return { valid: false, id, expiresAt, reason: 'expired' };
  return { valid: true, id, expiresAt, reason: null };
}

function mac(secret: string, domain: string, body: Buffer): Buffer {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return createHmac('sha256', key).update(`mxpost-reply-v1\0${domain}\0`).update(body).digest().subarray(0, MAC_BYTES);
}

function base32Encode(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Buffer | null {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text.toLowerCase()) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
