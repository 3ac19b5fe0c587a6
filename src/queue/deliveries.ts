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
  /** When the retry window started: acceptance, or the latest replay (ms since epoch). */
  readonly windowStartedAt: number;
  /** The SMTP transaction's trace context (W3C traceparent), when tracing is on. */
  readonly traceparent?: string | undefined;
  readonly payload: Payload;
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
  /** How long delivered jobs and dead letters are kept for reading back. */
  retentionMs: number;
  onError: (err: Error) => void;
}): DeliveryQueue {
  const queue = new Queue(DELIVERY_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: {
      // The retry window, not a count, ends a delivery's retries: the worker
      // dead-letters it when the window is spent (delivery/schedule.ts) and
      // chooses each delay itself (the 'window' strategy in delivery/worker.ts).
      attempts: 1_000_000,
      backoff: { type: 'window' },
      removeOnComplete: { age: Math.ceil(options.retentionMs / 1000) },
      // Failed jobs are the dead letters, kept for the same retention.
      removeOnFail: { age: Math.ceil(options.retentionMs / 1000) },
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
