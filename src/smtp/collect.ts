import type { Readable } from 'node:stream';
import { LineEndingNormalizer } from './line-endings.ts';

export interface MessageLimits {
  /** Largest message kept, counted after line-ending normalisation (what is stored). */
  readonly maxBytes: number;
  /** Largest header block, up to and including the blank line that ends it. */
  readonly maxHeaderBytes: number;
}

export type CollectVerdict = 'ok' | 'too-big' | 'header-too-big';

export interface Collected {
  /** The message with CRLF line endings throughout; empty unless the verdict is 'ok'. */
  readonly raw: Buffer;
  /** Bytes of the whole message, also past a limit (normalised). */
  readonly size: number;
  /** Bare CRs and LFs that became CRLF (line-endings.ts). */
  readonly bareLineEndings: number;
  readonly verdict: CollectVerdict;
}

const BLANK_LINE = Buffer.from('\r\n\r\n');

/**
 * Reads the DATA stream into one buffer, normalising line endings on the way.
 * Once the message breaks a limit, nothing more is kept: the rest is read and
 * dropped, so an oversized message costs no memory beyond the limit while
 * smtp-server still sees the final dot and we answer 552 then. `onBytes` sees
 * every chunk as it arrives (the DATA rate budget counts them).
 */
export async function collectMessage(stream: Readable, limits: MessageLimits, onBytes?: (count: number) => void): Promise<Collected> {
  const normalizer = new LineEndingNormalizer();
  const header = new HeaderTracker(limits.maxHeaderBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  let verdict: CollectVerdict = 'ok';
  const take = (data: Buffer) => {
    if (data.length === 0) return;
    size += data.length;
    if (verdict !== 'ok') return;
    if (!header.push(data)) verdict = 'header-too-big';
    else if (size > limits.maxBytes) verdict = 'too-big';
    if (verdict === 'ok') chunks.push(data);
    else chunks.length = 0;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    take(normalizer.push(chunk));
  }
  take(normalizer.end());
  return { raw: verdict === 'ok' ? Buffer.concat(chunks, size) : Buffer.alloc(0), size, bareLineEndings: normalizer.bare, verdict };
}

/**
 * Finds the end of the header block (the first empty line) across chunk
 * boundaries, and says whether the block stays within its limit. Sees
 * normalised bytes only, where every line ends in CRLF and no CRLF is split
 * between two chunks.
 */
class HeaderTracker {
  readonly #limit: number;
  #bytes = 0;
  #open = true;
  #tail = Buffer.alloc(0);

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Returns false once the header block is over its limit. */
  push(data: Buffer): boolean {
    if (!this.#open) return true;
    if (this.#bytes === 0 && data[0] === 0x0d) {
      // The message starts with its empty line: no header fields at all.
      this.#open = false;
      return true;
    }
    const probe = this.#tail.length ? Buffer.concat([this.#tail, data]) : data;
    const end = probe.indexOf(BLANK_LINE);
    if (end >= 0) {
      this.#open = false;
      this.#bytes += end + BLANK_LINE.length - this.#tail.length;
    } else {
      this.#bytes += data.length;
      // A copy: a view would keep the whole chunk alive.
      this.#tail = Buffer.from(probe.subarray(Math.max(0, probe.length - 3)));
    }
    return this.#bytes <= this.#limit;
  }
}
