// What the bench reads from Redis about an mxpost system: its backlog (the
// deliveries not done yet), Redis's memory, and a way to empty a prefix
// between runs so that one run's queue does not weigh on the next.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DELIVERY_QUEUE } from '../../src/queue/deliveries.ts';

export interface QueueWatch {
  /** Deliveries waiting, delayed or in progress under a prefix. */
  backlog(prefix: string): Promise<number>;
  /** Jobs under a prefix in any state, completed included. */
  stored(prefix: string): Promise<number>;
  /** Waits until the backlog is 0, at most `timeoutMs`; returns whether it got there. */
  drain(prefix: string, timeoutMs: number): Promise<boolean>;
  /** Redis `used_memory`, in bytes. */
  usedMemory(): Promise<number>;
  /** Deletes every key of the prefix's delivery queue (no process may be using it). */
  clear(prefix: string): Promise<void>;
  /** Removes delivered jobs (kept for the retention period) while workers run. */
  cleanCompleted(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export function watchQueues(redisUrl: string): QueueWatch {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = new Map<string, Queue>();
  const queue = (prefix: string) => {
    let q = queues.get(prefix);
    if (!q) {
      q = new Queue(DELIVERY_QUEUE, { connection: redis, prefix });
      queues.set(prefix, q);
    }
    return q;
  };

  const backlog = async (prefix: string) => {
    const counts = await queue(prefix).getJobCounts('wait', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  return {
    backlog,
    async stored(prefix) {
      const counts = await queue(prefix).getJobCounts();
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async drain(prefix, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while ((await backlog(prefix)) > 0) {
        if (Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return true;
    },
    async usedMemory() {
      const info = await redis.info('memory');
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
    },
    async clear(prefix) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:${DELIVERY_QUEUE}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    },
    async cleanCompleted(prefix) {
      // clean() removes at most `limit` jobs per call.
      while ((await queue(prefix).clean(0, 5000, 'completed')).length > 0);
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      redis.disconnect();
    },
  };
}
