import { domainToASCII, domainToUnicode } from 'node:url';

/**
 * The one form in which domains are compared: ASCII (IDNA `xn--` labels),
 * lower-case, without a trailing dot. Returns null for what is not a domain name,
 * including address literals such as `[192.0.2.1]`, which no route can name.
 */
export function normalizeDomain(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, '');
  if (trimmed === '' || trimmed.startsWith('[')) return null;
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === '' || ascii.length > 253) return null;
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(ascii)) return null;
  return ascii;
}

/** The Unicode form of an already normalized domain, for humans to read. */
export function displayDomain(ascii: string): string {
  return domainToUnicode(ascii) || ascii;
}
