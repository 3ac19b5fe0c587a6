// How much structure a message may have. Two tiers: past PARSER_LIMITS the
// parser stops reading the message as MIME, and it is still delivered with its
// top-level headers, its raw MIME and a `parser-limit` warning; past
// HARD_LIMITS it is refused before the 250 (554 5.6.0), because no reading of
// it is worth storing and mail like that is made to exhaust parsers, not sent.

export const PARSER_LIMITS = {
  /**
   * MIME parts mailparser reads (mailsplit's own default). Real mail has
   * dozens; a thousand is a mailing-list digest of digests.
   */
  parts: 1000,
  /** Bytes of one part's header block (mailsplit's default). Real blocks are a few KiB. */
  headBytes: 1024 * 1024,
  /**
   * Characters of HTML turned into `text` when a message has no text part;
   * mailparser sets no default. The conversion runs on the event loop at
   * 0.4-0.6 s per MiB of dense table markup on the 2-core development machine
   * (bench/payload-parse.ts), so this bounds the stall one message can cause
   * the receiver to about a quarter of a second. HTML-only newsletters are
   * 20-200 KiB. Larger HTML is still delivered as `html`, with an
   * `html-not-converted` warning and the raw MIME.
   */
  htmlToTextChars: 512 * 1024,
} as const;

export const HARD_LIMITS = {
  /** Ten times the parser's limit: no mail client sends a message of this many parts. */
  parts: 10_000,
  /** Four times the parser's limit, for one part's header block. */
  headBytes: 4 * 1024 * 1024,
} as const;

/** A message over HARD_LIMITS: the receiver answers 554 5.6.0 with `reason`. */
export class MessageRefusedError extends Error {
  override readonly name = 'MessageRefusedError';
  readonly reason: string;
  constructor(reason: string) {
    super(`message refused: ${reason}`);
    this.reason = reason;
  }
}

/** Recognised by name, as errors cross module boundaries. */
export function isMessageRefusedError(err: unknown): err is MessageRefusedError {
  return err instanceof Error && err.name === 'MessageRefusedError';
}
