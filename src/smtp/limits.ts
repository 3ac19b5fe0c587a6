import { clientKey } from './addresses.ts';

/** The session limits of docs/smtp.md, each from an `MXPOST_*` setting. */
export interface SessionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  readonly maxMessagesPerConnection: number;
  readonly maxRecipients: number;
  /** Refused commands (syntax, sequence, unknown; refused recipients) before 421. */
  readonly maxErrors: number;
  readonly maxCommandBytes: number;
  readonly maxMessageBytes: number;
  readonly maxHeaderBytes: number;
  /** Idle time allowed while the client owes us a command or DATA bytes. */
  readonly idleTimeoutMs: number;
  /** DATA may take this long, plus one second per `dataMinRate` bytes received. */
  readonly dataTimeoutMs: number;
  readonly dataMinRate: number;
  /** From the final dot to our reply. */
  readonly dataReplyTimeoutMs: number;
}

export type Admission = 'ok' | 'total' | 'client';

/**
 * Connections open now, in total and per client (clientKey: an IPv4 address or
 * an IPv6 /64). A socket counts toward the total from the moment it is accepted,
 * even before its PROXY header says who the client is, so that a flood of sockets
 * that never send one is bounded too.
 */
export class ConnectionCounter {
  readonly #maxTotal: number;
  readonly #maxPerClient: number;
  readonly #perClient = new Map<string, number>();
  #total = 0;

  constructor(maxTotal: number, maxPerClient: number) {
    this.#maxTotal = maxTotal;
    this.#maxPerClient = maxPerClient;
  }

  get total(): number {
    return this.#total;
  }

  /** A new socket. Returns a release function, or null when the total is reached. */
  admitSocket(): (() => void) | null {
    if (this.#total >= this.#maxTotal) return null;
    this.#total++;
    return once(() => this.#total--);
  }

  /** The socket's client, once known. Returns a release function, or null over the per-client limit. */
  admitClient(address: string): (() => void) | null {
    const key = clientKey(address);
    const count = this.#perClient.get(key) ?? 0;
    if (count >= this.#maxPerClient) return null;
    this.#perClient.set(key, count + 1);
    return once(() => {
      const left = (this.#perClient.get(key) ?? 1) - 1;
      if (left > 0) this.#perClient.set(key, left);
      else this.#perClient.delete(key);
    });
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/**
 * How long DATA may take: `timeoutMs`, extended by one second for every
 * `minRate` bytes received (Postfix's smtpd_min_data_rate idea). A client that
 * keeps up at least `minRate` bytes a second is never cut off however large its
 * message; a one-byte-a-second client is cut off after about `timeoutMs`, where the
 * idle timeout alone would never fire because each byte resets it.
 */
export function createDataBudget(options: { timeoutMs: number; minRate: number; onExpired: () => void; now?: () => number }) {
  const now = options.now ?? Date.now;
  const started = now();
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const deadline = () => started + options.timeoutMs + (bytes / options.minRate) * 1000;
  // One timer, re-armed only when it fires early: the deadline only ever moves later.
  const arm = () => {
    if (stopped) return;
    const wait = deadline() - now();
    if (wait <= 0) {
      stopped = true;
      options.onExpired();
      return;
    }
    timer = setTimeout(arm, Math.ceil(wait));
  };
  arm();
  return {
    received(count: number) {
      bytes += count;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
