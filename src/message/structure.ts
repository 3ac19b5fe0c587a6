import mailsplit from '@zone-eu/mailsplit';
import type { MessageChunk, MimeNode, SplitterChunk } from '@zone-eu/mailsplit';
import { isSupportedCharset } from './charsets.ts';
import { isFieldName } from './headers.ts';
import { HARD_LIMITS } from './limits.ts';
import type { ParseWarning } from './payload.ts';

/** What a pass over the MIME structure found, before the message is parsed. */
export interface Structure {
  /** Broken MIME, each kind reported once per part. */
  readonly warnings: ParseWarning[];
  /** Why the message is over HARD_LIMITS, or null. */
  readonly refusal: string | null;
}

const ENCODED_WORD_CHARSET = /=\?([^?*\s]+)(?:\*[^?\s]*)?\?[bq]\?/gi;
// What may stand in a base64 body besides the alphabet: padding and line breaks.
const FOREIGN_TO_BASE64 = /[^A-Za-z0-9+/=\r\n\t ]/;
const BASE64_ALPHABET = /[A-Za-z0-9+/]/;

/**
 * Walks the message with mailparser's own splitter, which reads structure
 * only, to find what mailparser silently mends: multiparts never closed,
 * base64 with foreign bytes, header lines without a name, charsets nobody
 * knows. It also counts parts and header bytes against HARD_LIMITS, which are
 * above mailparser's, so it sees what mailparser would refuse to read.
 */
export async function inspectStructure(raw: Buffer): Promise<Structure> {
  const warnings: ParseWarning[] = [];
  const seen = new Set<string>();
  const warn = (code: ParseWarning['code'], message: string) => {
    if (seen.has(`${code}\0${message}`)) return;
    seen.add(`${code}\0${message}`);
    warnings.push({ code, message });
  };
  const multiparts: { part: string; boundary: string }[] = [];
  const closed = new Set<string>();
  const base64 = new Map<MimeNode, { bad: boolean; padded: boolean }>();

  const splitter = new mailsplit.Splitter({ maxHeadSize: HARD_LIMITS.headBytes, maxChildNodes: HARD_LIMITS.parts });
  splitter.end(raw);
  try {
    for await (const chunk of splitter as AsyncIterable<SplitterChunk>) {
      if (chunk.type === 'node') {
        inspectNode(chunk, warn);
        if (chunk.multipart && chunk._boundary) multiparts.push({ part: partName(chunk), boundary: chunk._boundary.toString('latin1') });
        if (chunk.encoding === 'base64' && !chunk.multipart) base64.set(chunk, { bad: false, padded: false });
      } else if (chunk.type === 'data') {
        for (const boundary of closingDelimiters(chunk)) closed.add(boundary);
      } else if (chunk.type === 'body') {
        const state = base64.get(chunk.node);
        if (state) scanBase64(chunk.value, state);
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'EMAXLEN') {
      return { warnings, refusal: `${(err as Error).message} (limits: ${HARD_LIMITS.parts} parts, ${HARD_LIMITS.headBytes} header bytes per part)` };
    }
    // The splitter reads any bytes; should it still fail, parsing proceeds without its findings.
    warn('parser-limit', `MIME structure unreadable: ${(err as Error).message}`);
  }
  for (const { part, boundary } of multiparts) {
    if (!closed.has(boundary)) warn('unclosed-multipart', `${part}: no closing delimiter "--${boundary}--"; the last part runs to the end of the message`);
  }
  for (const [node, state] of base64) {
    if (state.bad) warn('invalid-base64', `${partName(node)}: base64 content with characters outside base64, or data after its padding; decoded what could be read`);
  }
  return { warnings, refusal: null };
}

function inspectNode(node: MimeNode, warn: (code: ParseWarning['code'], message: string) => void): void {
  const part = partName(node);
  if (node.multipart && !node._boundary) warn('missing-boundary', `${part}: multipart/${node.multipart} without a boundary parameter; read as text`);
  if (node.charset && !isSupportedCharset(node.charset)) {
    warn('unknown-charset', `${part}: unknown charset "${node.charset}"; decoded as UTF-8`);
  }
  if (!node.headers) return;
  for (const { line } of node.headers.getList()) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trimEnd();
    if (!isFieldName(name)) {
      warn('invalid-header-line', `${part}: header line without a field name skipped: ${JSON.stringify(line.slice(0, 60))}`);
      continue;
    }
    for (const match of line.matchAll(ENCODED_WORD_CHARSET)) {
      const charset = match[1] ?? '';
      if (!isSupportedCharset(charset)) warn('unknown-charset', `${part}: ${name} uses unknown charset "${charset}"; decoded as UTF-8`);
    }
  }
}

/** "message" for the top level, "part 1.2" below it (IMAP numbering, as mailparser's partId). */
function partName(node: MimeNode): string {
  const numbers = (node.partNr || []).filter((nr) => typeof nr === 'number');
  return numbers.length === 0 ? 'message' : `part ${numbers.join('.')}`;
}

/** The boundaries of the closing delimiter lines ("--b--") in a chunk of multipart structure. */
function* closingDelimiters(chunk: MessageChunk): Generator<string> {
  let start = 0;
  const bytes = chunk.value;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    // RFC 2046 5.1.1: boundaries are at most 70 characters.
    if (end - start <= 80 && bytes[start] === 0x2d && bytes[start + 1] === 0x2d) {
      const line = bytes.toString('latin1', start + 2, end).trimEnd();
      if (line.endsWith('--') && line.length > 2) yield line.slice(0, -2);
    }
    start = end + 1;
  }
}

/**
 * Tracks, across the chunks of one body, foreign bytes and data after padding.
 * Regular expressions over the Latin-1 text, not a loop over bytes: V8 runs
 * these single-character classes several times faster.
 */
function scanBase64(bytes: Buffer, state: { bad: boolean; padded: boolean }): void {
  if (state.bad) return;
  const text = bytes.toString('latin1');
  if (FOREIGN_TO_BASE64.test(text)) {
    state.bad = true;
    return;
  }
  const padding = text.indexOf('=');
  if (state.padded && BASE64_ALPHABET.test(text)) state.bad = true;
  else if (padding >= 0) {
    // Only padding and line breaks may follow the first "=".
    state.padded = true;
    if (BASE64_ALPHABET.test(text.slice(padding))) state.bad = true;
  }
}
