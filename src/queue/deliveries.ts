import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Payload } from '../message/payload.ts';

export const DELIVERY_QUEUE = 'deliveries';

/** What the worker needs to make one delivery; secrets stay in the routes file, never in Redis. */
export interface DeliveryJob {
  readonly deliveryId: string;
  /** The accepted message this delivery belongs to (the id in the 250 reply). */
  readonly queueId: string;
  /** Domain route and, for a per-address override, its local part: how the worker finds the secrets. */
  readonly domain: string;
  readonly address: string | null;
  readonly url: string;
  readonly payload: Payload;
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** Delay before the first retry; each next one doubles, with jitter. */
  readonly delayMs: number;
}

export interface DeliveryQueue {
  /**
   * Stores every job or fails: resolves only once Redis has all of them, rejects
   * with EnqueueError when Redis is unreachable or slower than `timeoutMs`.
   */
  enqueue(jobs: readonly DeliveryJob[], timeoutMs: number): Promise<void>;
  readonly queue: Queue;
  close(): Promise<void>;
}

export class EnqueueError extends Error {
  override readonly name = 'EnqueueError';
}

export function createDeliveryQueue(options: {
  connection: Redis;
  prefix: string;
  retry: RetryPolicy;
  onError: (err: Error) => void;
}): DeliveryQueue {
  const queue = new Queue(DELIVERY_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: {
      attempts: options.retry.attempts,
      // Jitter spreads the retries of a burst that failed together.
      backoff: { type: 'exponential', delay: options.retry.delayMs, jitter: 0.3 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      // Failed jobs are the dead letters: kept until replayed or deleted.
      removeOnFail: false,
    },
  });
  queue.on('error', options.onError);

  return {
    queue,
    async enqueue(jobs, timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EnqueueError(`Redis did not store the deliveries within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([
          queue.addBulk(jobs.map((data) => ({ name: 'deliver', data, opts: { jobId: data.deliveryId } }))),
          deadline,
        ]);
      } catch (err) {
        throw err instanceof EnqueueError ? err : new EnqueueError(`Redis refused the deliveries: ${(err as Error).message}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await queue.close();
    },
  };
}
