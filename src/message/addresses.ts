import { parseAddressHeader } from 'mailparser';
import type { EmailAddress } from './payload.ts';

/**
 * The mailboxes of one or more raw (not yet RFC 2047-decoded) address header
 * values, groups replaced by their members. mailparser decodes encoded-words
 * in display names only after splitting, and punycode domains to Unicode.
 */
export function parseAddresses(rawValues: readonly string[]): EmailAddress[] {
  if (rawValues.length === 0) return [];
  const addresses: EmailAddress[] = [];
  for (const entry of parseAddressHeader([...rawValues], { flatten: true }).value) {
    const name = entry.name ?? '';
    const address = entry.address ?? '';
    // An empty group ("undisclosed-recipients:;") flattens to nothing; an
    // entry with a name but no address is kept, it is all the header said.
    if (name !== '' || address !== '') addresses.push({ name, address });
  }
  return addresses;
}
