/**
 * The msg-ids of a Message-ID, In-Reply-To or References value, without angle
 * brackets, in order.
 *
 * Bracketed ids are taken as written, minus any whitespace a mailer folded
 * into them. Some mailers omit the brackets; then only bare tokens with an `@`
 * count, so an old-style In-Reply-To phrase ("your message of Monday") does
 * not turn into ids.
 */
export function parseMessageIds(value: string): string[] {
  const bracketed: string[] = [];
  for (const match of value.matchAll(/<([^<>]*)>/g)) {
    const id = (match[1] ?? '').replace(/\s+/g, '');
    if (id !== '') bracketed.push(id);
  }
  if (bracketed.length > 0) return bracketed;
  return value
    .replace(/\([^()]*\)/g, ' ')
    .split(/[\s,]+/)
    .filter((token) => token.includes('@'));
}

/** The first msg-id in the first field that has one, or null. */
export function firstMessageId(values: readonly string[]): string | null {
  for (const value of values) {
    const [id] = parseMessageIds(value);
    if (id !== undefined) return id;
  }
  return null;
}
