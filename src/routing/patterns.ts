/**
 * The patterns of routing rules (docs/routing.md), in three forms:
 *
 *   support          exact text, ignoring case
 *   ticket-*         a wildcard: `*` is any run of characters, ignoring case
 *   /^t-(?<id>\d+)$/i  a regular expression (flags i, m, s, u, v), whose named
 *                    groups become captures, usable as `{id}` in an endpoint URL
 *
 * Patterns come from the operator's routes file; the text they are tried on
 * comes from the sender, so it is cut to MAX_SUBJECT characters first: a
 * careless expression cannot be made to backtrack over megabytes.
 */
export interface Pattern {
  /** As written in the routes file, for the dry run and the logs. */
  readonly source: string;
  /** Captures when the text matches (empty for exact and wildcard), else null. */
  match(text: string): Record<string, string> | null;
  /** The named groups it can capture. */
  readonly groups: readonly string[];
}

/** Header values and addresses past this are tried on their first this-many characters. */
export const MAX_SUBJECT = 4096;

const REGEX = /^\/(.*)\/([a-z]*)$/s;
const ALLOWED_FLAGS = /^[imsuv]*$/;

/** The pattern, or why the text is not one. */
export function compilePattern(text: string): Pattern | string {
  if (text === '') return 'must not be empty';
  const regex = REGEX.exec(text);
  if (regex && text.length > 1) {
    const [, body, flags] = regex as unknown as [string, string, string];
    if (!ALLOWED_FLAGS.test(flags)) return `regular expression flags may be i, m, s, u and v, got "${flags}"`;
    let compiled: RegExp;
    try {
      compiled = new RegExp(body, flags);
    } catch (err) {
      return `is not a valid regular expression: ${(err as Error).message}`;
    }
    const groups = [...body.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
    return {
      source: text,
      groups,
      match(subject: string) {
        const found = compiled.exec(subject.slice(0, MAX_SUBJECT));
        if (!found) return null;
        const captures: Record<string, string> = {};
        for (const [name, value] of Object.entries(found.groups ?? {})) captures[name] = value ?? '';
        return captures;
      },
    };
  }
  const lower = text.toLowerCase();
  if (!text.includes('*')) {
    return { source: text, groups: [], match: (subject: string) => (subject.toLowerCase() === lower ? {} : null) };
  }
  const wildcard = new RegExp(`^${lower.split('*').map(escapeRegExp).join('.*')}$`, 'is');
  return { source: text, groups: [], match: (subject: string) => (wildcard.test(subject.slice(0, MAX_SUBJECT)) ? {} : null) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The first of `patterns` that matches `text`, as its captures; null when none does. */
export function matchAny(patterns: readonly Pattern[], text: string): Record<string, string> | null {
  for (const pattern of patterns) {
    const captures = pattern.match(text);
    if (captures) return captures;
  }
  return null;
}
