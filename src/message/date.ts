// A strict reader of RFC 5322 3.3 dates (with the obsolete forms of 4.3), in
// place of `new Date(string)`: V8 reads a zone-less date in the host's local
// time and turns strings such as "1" into a date, and mailparser replaces an
// unreadable Date header with the current time. Neither belongs in a document
// that says when the sender wrote the message.

// No real Date header comes near this; a longer value is not a date, and the
// bound keeps the regular expressions below working on short input only.
const MAX_DATE_LENGTH = 256;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// RFC 5322 4.3 obs-zone: the US zones have offsets; UT, GMT, military letters
// and every other alphabetic zone read as -0000, i.e. UTC.
const ZONE_OFFSETS: Readonly<Record<string, number>> = {
  EST: -5 * 60, EDT: -4 * 60, CST: -6 * 60, CDT: -5 * 60,
  MST: -7 * 60, MDT: -6 * 60, PST: -8 * 60, PDT: -7 * 60,
};

// [day-of-week ","] day month year hour ":" minute [":" second] [zone]
const RFC5322_DATE =
  /^(?:[a-z]+\s*,?\s*)?(\d{1,2})\s*[\s-]\s*([a-z]{3})[a-z]*\.?\s*[\s-]\s*(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]+)?$/i;

// ISO 8601 with an explicit offset, which some scripts put in Date headers.
// Without an offset ECMAScript would read it as local time, so none is accepted.
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** The Date header value as ISO 8601 UTC, or null when it is not a date. */
export function parseDate(value: string): string | null {
  if (value.length > MAX_DATE_LENGTH) return null;
  // CFWS may stand anywhere; comments such as "(PST)" carry nothing we use.
  const text = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  const iso = ISO_DATE.exec(text);
  if (iso !== null) {
    const [, year, month, day, hour, minute, second, zone] = iso;
    return toIso(Number(year), Number(month) - 1, day, hour, minute, second, zoneOffset(zone?.replace(':', '')));
  }
  const match = RFC5322_DATE.exec(text);
  if (match === null) return null;
  const [, day, monthName, year, hour, minute, second, zone] = match;
  const month = MONTHS.indexOf((monthName ?? '').toLowerCase());
  return toIso(fullYear(year ?? ''), month, day, hour, minute, second, zoneOffset(zone));
}

/** Checks the fields and applies the offset; any field out of range gives null. */
function toIso(
  year: number,
  month: number,
  day: string | undefined,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
  offset: number | null,
): string | null {
  const d = Number(day), h = Number(hour), min = Number(minute);
  // A leap second (60) is kept as the last second of that minute.
  const s = Math.min(Number(second ?? 0), 59);
  // Date.UTC reads years 0-99 as 1900-1999, and no mail predates 1900.
  if (offset === null || year < 1900 || month < 0 || month > 11) return null;
  if (d < 1 || h > 23 || min > 59) return null;
  const time = Date.UTC(year, month, d, h, min, s);
  // Date.UTC rolls 31 Feb over into March; a date that rolled is not a date.
  if (new Date(time).getUTCDate() !== d) return null;
  return new Date(time - offset * 60_000).toISOString();
}

// RFC 5322 4.3 obs-year: two digits are 1950-2049, three digits add 1900.
function fullYear(digits: string): number {
  const n = Number(digits);
  if (digits.length === 2) return n < 50 ? 2000 + n : 1900 + n;
  if (digits.length === 3) return 1900 + n;
  return n;
}

/** Offset east of UTC in minutes; a missing zone is as uninformative as -0000. */
function zoneOffset(zone: string | undefined): number | null {
  if (zone === undefined) return 0;
  if (zone[0] === '+' || zone[0] === '-') {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(3, 5));
    if (hours > 23 || minutes > 59) return null;
    return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return ZONE_OFFSETS[zone.toUpperCase()] ?? 0;
}
