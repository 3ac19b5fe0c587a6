import type { AuthVerdicts } from './schema.ts';

/**
 * Formats the RFC 8601 Authentication-Results value from the verdicts, so that
 * the header always says what the payload says (including where mxpost corrects
 * mailauth). One resinfo per line, folded, so the value can be prepended to the
 * message as it is.
 */
export function formatAuthenticationResults(authservId: string, verdicts: Omit<AuthVerdicts, 'quarantined' | 'authenticationResults'>): string {
  const rows: string[] = [];
  if (verdicts.dkim.length === 0) rows.push(resinfo('dkim', 'none', 'message not signed', []));
  for (const sig of verdicts.dkim) {
    rows.push(
      resinfo('dkim', sig.result, sig.reason, [
        ['header.d', sig.domain],
        ['header.s', sig.selector],
        ['header.a', sig.algorithm],
      ]),
    );
  }
  const { spf, dmarc, arc } = verdicts;
  rows.push(resinfo('spf', spf.result, spf.reason, [[spf.identity === 'helo' ? 'smtp.helo' : 'smtp.mailfrom', spf.domain]]));
  const dmarcComment = [
    dmarc.policy ? `p=${dmarc.policy.toUpperCase()}` : null,
    dmarc.subdomainPolicy ? `sp=${dmarc.subdomainPolicy.toUpperCase()}` : null,
    dmarc.result === 'pass' || dmarc.result === 'fail' ? null : dmarc.reason,
  ]
    .filter((part) => part)
    .join(' ');
  rows.push(
    resinfo('dmarc', dmarc.result, dmarcComment || null, [
      ['header.from', dmarc.domain],
      // RFC 9989 section 9.1: the policy evaluated for this message.
      ['policy.dmarc', dmarc.result === 'pass' || dmarc.result === 'fail' ? dmarc.appliedPolicy : null],
    ]),
  );
  // mailauth's ARC comments may start with the instance already.
  const arcReason = arc.reason?.replace(/^i=\d+\s*/, '') || null;
  rows.push(resinfo('arc', arc.result, [arc.instances > 0 ? `i=${arc.instances}` : null, arcReason].filter(Boolean).join(' ') || null, []));
  return `${authservId};\r\n\t${rows.join(';\r\n\t')}`;
}

function resinfo(method: string, result: string, comment: string | null, props: [string, string | null][]): string {
  const parts = [`${method}=${result}`];
  if (comment) parts.push(`(${commentText(comment)})`);
  for (const [name, value] of props) if (value) parts.push(`${name}=${pvalue(value)}`);
  return parts.join(' ');
}

// RFC 2045 token: any visible ASCII except tspecials.
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

/** A property value: a token as it is, anything else as a quoted-string without control characters. */
function pvalue(value: string): string {
  if (TOKEN.test(value)) return value;
  return `"${printable(value).replace(/["\\]/g, '\\$&')}"`;
}

/** A comment: no control characters, parentheses and backslashes escaped, at most 200 characters. */
function commentText(text: string): string {
  return printable(text).slice(0, 200).replace(/[()\\]/g, '\\$&');
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}
