import {
  ATTRIBUTION_START,
  BARE_WROTE,
  ENDS_WITH_WROTE,
  FORWARD_INTRO,
  HEADER_BLOCK_FIELD,
  HEADER_BLOCK_FROM,
  HISTORY_SEPARATOR,
  MOBILE_FOOTER,
  NAME_AFTER_WROTE,
  RULE_LINE,
  SIGNATURE_DELIMITER,
  VALEDICTION,
} from './reply-patterns.ts';

// What the sender newly wrote: the text above the quoted history, without the
// signature block. Written here rather than taken from a library: the
// maintained JavaScript one (email-reply-parser 2.x) misses the wrapped Gmail
// attributions and the non-English Outlook blocks of test/fixtures/replies,
// and without its optional native re2 dependency its patterns backtrack
// catastrophically (a 6 KB text took 0.5 s, 60 KB over 5 minutes); planer
// (a port of talon) knows neither Spanish nor Portuguese nor signatures.
// The approach is theirs: classify lines, find where the history starts.
//
// Cost is linear: each line is tested by a fixed set of anchored patterns,
// attributions over at most ATTRIBUTION_LINES joined lines, and text beyond
// MAX_SCAN_CHARS is not scanned.

/** The reply is near the top; a history marker further down than this is not looked for. */
const MAX_SCAN_CHARS = 256 * 1024;
/** Lines longer than this are prose, never a marker, and are not tested. */
const MAX_MARKER_LENGTH = 500;
/** Gmail and Outlook wrap a long attribution over up to three lines. */
const ATTRIBUTION_LINES = 3;
/** A header block names its other fields within this many lines of "From:". */
const HEADER_BLOCK_LINES = 5;
/** A signature block is at most this many lines, and each line at most SIGNATURE_LINE_LENGTH. */
const SIGNATURE_MAX_LINES = 10;
const SIGNATURE_LINE_LENGTH = 100;

type Cut = { line: number; kind: 'attribution' | 'history'; length: number };

/** The newly written part of a plain-text message body. */
export function extractReply(text: string): string {
  const scanned = text.length > MAX_SCAN_CHARS ? text.slice(0, text.lastIndexOf('\n', MAX_SCAN_CHARS) + 1) : text;
  const lines = scanned.replace(/\r\n?/g, '\n').split('\n');
  const cut = findHistory(lines);
  // Past the scanned part there may be more of the reply: without a marker the
  // whole text stands.
  if (cut === null && scanned.length < text.length) return text.trim();
  return join(withoutSignature(replyLines(lines, cut)));
}

const isQuoted = (line: string): boolean => /^\s*>/.test(line);
const isBlank = (line: string): boolean => line.trim() === '';
const marker = (line: string | undefined): string | null => {
  if (line === undefined || line.length > MAX_MARKER_LENGTH || isQuoted(line)) return null;
  const trimmed = line.trim();
  return trimmed === '' ? null : trimmed;
};

/** The first line where quoted history starts, or null when the text has none. */
function findHistory(lines: readonly string[]): Cut | null {
  for (let i = 0; i < lines.length; i++) {
    const line = marker(lines[i]);
    if (line === null) continue;
    const attribution = attributionAt(lines, i, line);
    if (attribution > 0) return { line: i, kind: 'attribution', length: attribution };
    if (HISTORY_SEPARATOR.test(line) || FORWARD_INTRO.test(line)) return { line: i, kind: 'history', length: 1 };
    if (isHeaderBlock(lines, i, line)) return { line: ruleAbove(lines, i), kind: 'history', length: 1 };
  }
  return null;
}

/** How many lines the attribution starting at `i` spans, or 0 when there is none. */
function attributionAt(lines: readonly string[], i: number, line: string): number {
  if (ATTRIBUTION_START.test(line)) {
    let joined = line;
    for (let span = 1; span <= ATTRIBUTION_LINES; span++) {
      if (ENDS_WITH_WROTE.test(joined) || NAME_AFTER_WROTE.test(joined)) return span;
      const next = marker(lines[i + span]);
      if (next === null) break;
      joined = `${joined} ${next}`;
    }
    return 0;
  }
  // "Jane Doe <jane@example.com> wrote:" is too plain to trust unless quoting follows.
  if (BARE_WROTE.test(line)) {
    let j = i + 1;
    while (j < lines.length && isBlank(lines[j]!)) j++;
    return j < lines.length && isQuoted(lines[j]!) ? 1 : 0;
  }
  return 0;
}

/** "From: …" followed closely by at least two more header fields. */
function isHeaderBlock(lines: readonly string[], i: number, line: string): boolean {
  if (!HEADER_BLOCK_FROM.test(line)) return false;
  let fields = 0;
  for (let j = i + 1; j <= i + HEADER_BLOCK_LINES && j < lines.length; j++) {
    const field = marker(lines[j]);
    if (field !== null && HEADER_BLOCK_FIELD.test(field)) fields++;
  }
  return fields >= 2;
}

/** Outlook draws a rule (or "-----Original Message-----") above the block: cut there. */
function ruleAbove(lines: readonly string[], i: number): number {
  let j = i - 1;
  while (j >= 0 && isBlank(lines[j]!)) j--;
  const above = j >= 0 ? lines[j]!.trim() : '';
  return RULE_LINE.test(above) || HISTORY_SEPARATOR.test(above) ? j : i;
}

/**
 * The lines the sender wrote. Above an Outlook-style block or separator, the
 * history is unquoted, so everything below goes. Below an attribution it is
 * quoted: answers written between quoted passages (interleaved replies) and
 * under them (bottom-posting) are kept, quoted lines never.
 */
function replyLines(lines: readonly string[], cut: Cut | null): string[] {
  if (cut === null) return lines.filter((line) => !isQuoted(line));
  const above = lines.slice(0, cut.line).filter((line) => !isQuoted(line));
  if (cut.kind === 'history') return above;
  const below = lines.slice(cut.line + cut.length);
  const answered = answersBetweenQuotes(below);
  const topPosted = above.some((line) => !isBlank(line));
  if (answered || !topPosted) return [...above, ...below.filter((line) => !isQuoted(line))];
  return above;
}

/** Whether unquoted text stands between two quoted passages: an interleaved reply. */
function answersBetweenQuotes(lines: readonly string[]): boolean {
  let state: 'start' | 'quote' | 'answer' = 'start';
  for (const line of lines) {
    if (isBlank(line)) continue;
    if (isQuoted(line)) {
      if (state === 'answer') return true;
      state = 'quote';
    } else if (state === 'quote') state = 'answer';
  }
  return false;
}

/** Drops the signature block at the end, unless it is all there is. */
function withoutSignature(lines: string[]): string[] {
  const end = lastNonBlank(lines);
  if (end < 0) return lines;
  let start = -1;
  // The delimiter wins wherever it is: what follows "-- " is signature by definition.
  for (let i = end; i > 0 && start < 0; i--) if (SIGNATURE_DELIMITER.test(lines[i]!.trimEnd())) start = i;
  for (let i = Math.max(1, end - SIGNATURE_MAX_LINES); i <= end && start < 0; i++) {
    if (startsSignature(lines, i, end)) start = i;
  }
  if (start < 0) return lines;
  const kept = lines.slice(0, start);
  return kept.some((line) => !isBlank(line)) ? kept : lines;
}

function startsSignature(lines: readonly string[], i: number, end: number): boolean {
  const line = lines[i]!.trim();
  const tail = lines.slice(i + 1, end + 1);
  const shortTail = tail.every((l) => l.length <= SIGNATURE_LINE_LENGTH);
  if (MOBILE_FOOTER.test(line)) return shortTail && line.length <= SIGNATURE_LINE_LENGTH;
  if (!VALEDICTION.test(line)) return false;
  // "Thanks," then a name is a sign-off; "Thank you." closing the text is a sentence.
  const named = tail.some((l) => !isBlank(l));
  return shortTail && (named || line.endsWith(','));
}

function lastNonBlank(lines: readonly string[]): number {
  for (let i = lines.length - 1; i >= 0; i--) if (!isBlank(lines[i]!)) return i;
  return -1;
}

/**
 * The lines as text, without the blank lines and trailing spaces around it; the
 * blank lines left where quoted passages were removed collapse into one.
 */
function join(lines: readonly string[]): string {
  return lines.map((line) => line.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+|\n+$/g, '');
}
