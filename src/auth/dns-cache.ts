/**
 * A bounded cache of DNS answers, each kept no longer than its TTL. It is shared
 * by every SMTP session of the process, so its bounds are what an attacker who
 * controls the DNS of the domains in their messages can make it hold: answers
 * are counted by entries and by an estimate of their bytes, and the least
 * recently used go first.
 */

export interface CacheLimits {
  /** Most answers held at once. */
  readonly maxEntries: number;
  /** Most bytes of answer data held at once (an estimate: the text of the records). */
  readonly maxBytes: number;
  /** Longest time any answer is kept, whatever its TTL says, in seconds. */
  readonly maxTtlSeconds: number;
}

/** 10,000 answers and 16 MiB: tens of thousands of messages a day reuse them; worst case is bounded. */
export const DEFAULT_CACHE_LIMITS: CacheLimits = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, maxTtlSeconds: 3600 };

interface Entry<T> {
  readonly value: T;
  readonly bytes: number;
  readonly expiresAt: number;
}

export interface TtlCache<T> {
  get(key: string): T | undefined;
  /** Stores `value` for `ttlSeconds` (capped); a TTL of 0 or an oversized value is not stored. */
  set(key: string, value: T, ttlSeconds: number, bytes: number): void;
  readonly size: number;
  readonly bytes: number;
}

export function createTtlCache<T>(limits: CacheLimits, now: () => number): TtlCache<T> {
  // A Map iterates in insertion order; re-inserting on each hit makes the first key the least recently used.
  const entries = new Map<string, Entry<T>>();
  let bytes = 0;

  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        remove(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, ttlSeconds, size) {
      remove(key);
      const ttl = Math.min(ttlSeconds, limits.maxTtlSeconds);
      if (!(ttl > 0) || size > limits.maxBytes / 16) return;
      entries.set(key, { value, bytes: size, expiresAt: now() + ttl * 1000 });
      bytes += size;
      for (const oldest of entries.keys()) {
        if (entries.size <= limits.maxEntries && bytes <= limits.maxBytes) break;
        remove(oldest);
      }
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
  };
}
