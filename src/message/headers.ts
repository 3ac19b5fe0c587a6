import { isUtf8 } from 'node:buffer';
import libmime from 'libmime';
import type { HeaderLines } from 'mailparser';
import type { HeaderField } from './payload.ts';

/**
 * A header field unfolded but not yet RFC 2047-decoded. Address and msg-id
 * parsers must read this form: a display name that decodes to
 * `"x" <ceo@bank.example>, y@z` would otherwise add addresses the header never
 * carried.
 */
export interface RawHeaderField {
  readonly name: string;
  readonly raw: string;
}

// RFC 5322 3.6.8 ftext: printable ASCII except the colon. A "name" outside it
// is garbage that happened to contain a colon, not a header.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** Whether the text before a header line's colon (trailing WSP removed) is a field name. */
export function isFieldName(name: string): boolean {
  return FIELD_NAME.test(name);
}

// RFC 5322 2.2.3: unfolding removes a line break that is followed by WSP and
// keeps the WSP itself.
const FOLD = /\r?\n(?=[ \t])/g;

/**
 * Reads mailparser's `headerLines` (order and repeats kept) into fields.
 * Lines without a valid field name are skipped.
 */
export function readRawFields(lines: HeaderLines | undefined): RawHeaderField[] {
  const fields: RawHeaderField[] = [];
  for (const { line } of lines ?? []) {
    const text = decodeOctets(line);
    const colon = text.indexOf(':');
    if (colon < 0) continue;
    // The obsolete syntax (RFC 5322 4.5) allows WSP between name and colon.
    const name = text.slice(0, colon).trimEnd();
    if (!isFieldName(name)) continue;
    fields.push({ name, raw: text.slice(colon + 1).replace(FOLD, '').trim() });
  }
  return fields;
}

/** Decodes RFC 2047 encoded-words; a value libmime cannot decode is kept as it is. */
export function decodeField(field: RawHeaderField): HeaderField {
  let value = field.raw;
  try {
    value = libmime.decodeWords(field.raw).trim();
  } catch {
    // an unknown charset or a broken word: the raw text is the best we have
  }
  return { name: field.name, value };
}

/** The decoded fields by lower-case name, each name's values in message order. */
export function headersByName(fields: readonly HeaderField[]): Record<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const field of fields) {
    const name = field.name.toLowerCase();
    const values = byName.get(name);
    if (values) values.push(field.value);
    else byName.set(name, [field.value]);
  }
  // fromEntries defines own properties: a header called "__proto__" is just a header.
  return Object.fromEntries(byName);
}

/** The raw values of every field called `name` (case-insensitive), in order. */
export function rawValues(fields: readonly RawHeaderField[], name: string): string[] {
  const wanted = name.toLowerCase();
  return fields.filter((field) => field.name.toLowerCase() === wanted).map((field) => field.raw);
}

/**
 * mailsplit hands header lines over as 'binary' strings, one char per octet.
 * Raw 8-bit headers are UTF-8 when they are valid UTF-8 (RFC 6532); anything
 * else is most likely a legacy single-byte charset, which Latin-1 reads
 * without loss of the ASCII around it.
 */
function decodeOctets(line: string): string {
  const octets = Buffer.from(line, 'latin1');
  return isUtf8(octets) ? octets.toString('utf8') : line;
}
