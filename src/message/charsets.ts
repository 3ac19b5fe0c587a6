import { DecodeStream } from 'libmime/lib/charset.js';

// Names seen in real mail are few; the answer for each is cached.
const known = new Map<string, boolean>();
const MAX_CACHED = 1000;

/**
 * Whether mailparser (through libmime) can decode text declared in `charset`.
 * libmime decodes an unknown or refused charset (UTF-7, "base64") as UTF-8 and
 * says so on its decode stream; that flag is the one answer both agree on.
 */
export function isSupportedCharset(charset: string): boolean {
  const name = charset.trim().toLowerCase();
  let supported = known.get(name);
  if (supported === undefined) {
    supported = new DecodeStream(name).supported;
    if (known.size < MAX_CACHED) known.set(name, supported);
  }
  return supported;
}
