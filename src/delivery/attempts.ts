import type { Redis } from 'ioredis';

/** One attempt of one delivery, as the operator reads it back. */
export interface AttemptRecord {
  readonly attempt: number;
  /** When the request started (ISO 8601). */
  readonly at: string;
  readonly durationMs: number;
  readonly outcome: 'delivered' | 'retry' | 'dead-letter';
  /** The HTTP status, when the endpoint answered. */
  readonly status: number | null;
  /** Why it failed: the status line and body start, or the network error. */
  readonly reason: string | null;
  /** The first bytes of the response body. */
  readonly responseStart: string | null;
  /** When the next attempt is due, for a retry. */
  readonly nextAttemptAt: string | null;
}

// The stored response start is for reading, not for keeping whole pages.
const RESPONSE_START_CHARS = 512;

/**
 * Every attempt, kept in Redis next to the job under `<prefix>:attempts:<id>`,
 * expiring `retentionMs` after the latest one.
 */
export function createAttemptLog(redis: Redis, prefix: string, retentionMs: number) {
  const key = (deliveryId: string) => `${prefix}:attempts:${deliveryId}`;
  return {
    async append(deliveryId: string, record: AttemptRecord): Promise<void> {
      const stored = { ...record, responseStart: record.responseStart?.slice(0, RESPONSE_START_CHARS) ?? null };
      await redis.multi().rpush(key(deliveryId), JSON.stringify(stored)).pexpire(key(deliveryId), retentionMs).exec();
    },
    async list(deliveryId: string): Promise<AttemptRecord[]> {
      const entries = await redis.lrange(key(deliveryId), 0, -1);
      return entries.map((entry) => JSON.parse(entry) as AttemptRecord);
    },
  };
}

export type AttemptLog = ReturnType<typeof createAttemptLog>;
