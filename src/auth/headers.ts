/**
 * The little header reading that authentication needs before mailauth sees the
 * message: which DKIM signatures it carries (to cap how many are verified, to
 * fetch their keys early, and to report them if the deadline passes), how many
 * ARC sets, and which Authentication-Results fields claim our authserv-id.
 * Everything works on bytes, so that the rest of the message is left exactly as
 * it arrived and signatures still verify.
 */

export interface HeaderField {
  /** Lower-case field name. */
  readonly name: string;
  /** The value, unfolded, as latin1 text (bytes preserved one to one). */
  readonly value: string;
  /** Byte range of the whole field, folded lines and line end included. */
  readonly start: number;
  readonly end: number;
}

/** The end of the header section: the offset of the empty line, or the whole message without one. */
export function headerEnd(raw: Buffer): number {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    // A line that is empty (LF or CRLF right after a line end, or at the very start) ends the header.
    if (raw[i + 1] === 0x0a) return i + 1;
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return i + 1;
  }
  if (raw[0] === 0x0a || (raw[0] === 0x0d && raw[1] === 0x0a)) return 0;
  return raw.length;
}

/** The header fields in order; lines that are not fields (no colon) are skipped. */
export function readHeaderFields(raw: Buffer): HeaderField[] {
  const end = headerEnd(raw);
  const fields: HeaderField[] = [];
  let start = 0;
  while (start < end) {
    let stop = start;
    // A field runs until a line end followed by something other than a space or tab.
    for (;;) {
      const lf = raw.indexOf(0x0a, stop);
      stop = lf === -1 || lf >= end ? end : lf + 1;
      if (stop >= end || (raw[stop] !== 0x20 && raw[stop] !== 0x09)) break;
    }
    const text = raw.toString('latin1', start, stop);
    const colon = text.indexOf(':');
    if (colon > 0) {
      const name = text.slice(0, colon).trim().toLowerCase();
      const value = text.slice(colon + 1).replace(/\r?\n/g, '').trim();
      fields.push({ name, value, start, end: stop });
    }
    start = stop;
  }
  return fields;
}

/** The message without the given fields; the body and every other byte unchanged. */
export function withoutFields(raw: Buffer, drop: readonly HeaderField[]): Buffer {
  if (drop.length === 0) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  for (const field of [...drop].sort((a, b) => a.start - b.start)) {
    parts.push(raw.subarray(at, field.start));
    at = field.end;
  }
  parts.push(raw.subarray(at));
  return Buffer.concat(parts);
}

/** The tags of a DKIM-Signature (RFC 6376 section 3.2), names lower-cased, whitespace removed. */
export function dkimTags(value: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/[ \t\r\n]+/g, ''));
  }
  return tags;
}

/**
 * The authserv-id of an Authentication-Results value (RFC 8601 section 2.2):
 * the first token or quoted string, after any comments. Lower-cased, since it is
 * compared as a domain name would be.
 */
export function authservIdOf(value: string): string {
  let rest = value;
  for (;;) {
    rest = rest.replace(/^[ \t]+/, '');
    if (!rest.startsWith('(')) break;
    let depth = 0;
    let i = 0;
    for (; i < rest.length; i++) {
      if (rest[i] === '\\') i++;
      else if (rest[i] === '(') depth++;
      else if (rest[i] === ')' && --depth === 0) break;
    }
    rest = rest.slice(i + 1);
  }
  const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
  const id = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : (/^[^\s;()]*/.exec(rest)?.[0] ?? '');
  return id.toLowerCase();
}

/** Authentication-Results fields that claim to come from `authservId`: forged, or a loop. */
export function ownAuthenticationResults(fields: readonly HeaderField[], authservId: string): HeaderField[] {
  const ours = authservId.toLowerCase();
  return fields.filter((f) => f.name === 'authentication-results' && authservIdOf(f.value) === ours);
}

/**
 * The message without Authentication-Results fields that claim our authserv-id:
 * RFC 8601 section 5 requires removing them before delivery, so that nothing
 * downstream mistakes a forged one for ours.
 */
export function withoutOwnAuthenticationResults(raw: Buffer, authservId: string): Buffer {
  return withoutFields(raw, ownAuthenticationResults(readHeaderFields(raw), authservId));
}
