/** One mailbox from an address header. Groups are flattened into their members. */
export interface EmailAddress {
  /** Display name with encoded-words decoded; '' when the header gave none. */
  readonly name: string;
  readonly address: string;
}

/** One header field of the top-level part, as it appeared in the message. */
export interface HeaderField {
  /** The field name as written (case kept). */
  readonly name: string;
  /** The value unfolded and RFC 2047-decoded, surrounding whitespace trimmed. */
  readonly value: string;
}

/** What the document says about an attachment; the content itself travels separately. */
export interface AttachmentInfo {
  readonly filename: string | null;
  readonly contentType: string;
  /** Decoded size in bytes. */
  readonly size: number;
  /** Content-ID without angle brackets, to match `cid:` links in the HTML. */
  readonly contentId: string | null;
  readonly disposition: 'attachment' | 'inline' | null;
  /** Hex SHA-256 of the decoded content. */
  readonly sha256: string;
}

/** The `message` part of the webhook payload. */
export interface MessageDocument {
  /** Without angle brackets. */
  readonly messageId: string | null;
  /** Without angle brackets. */
  readonly inReplyTo: string | null;
  /** Without angle brackets, in the order the header lists them. */
  readonly references: readonly string[];
  /** ISO 8601 UTC; null when the Date header is absent or unparseable. */
  readonly date: string | null;
  /** '' when absent. */
  readonly subject: string;
  readonly from: readonly EmailAddress[];
  readonly sender: EmailAddress | null;
  readonly replyTo: readonly EmailAddress[];
  readonly to: readonly EmailAddress[];
  readonly cc: readonly EmailAddress[];
  /** Every header of the top-level part, in order, repeats included. */
  readonly headers: readonly HeaderField[];
  readonly text: string | null;
  readonly html: string | null;
  readonly attachments: readonly AttachmentInfo[];
  /** Raw message size in bytes. */
  readonly size: number;
}
