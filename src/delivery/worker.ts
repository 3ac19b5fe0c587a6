import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { Logger } from '../observability/logger.ts';
import { DELIVERY_QUEUE, type DeliveryJob } from '../queue/deliveries.ts';
import { classifyError, classifyResponse, type Outcome } from './outcome.ts';
import { postJson } from './post.ts';

export interface DeliveryWorkerOptions {
  readonly connection: Redis;
  readonly prefix: string;
  readonly concurrency: number;
  /** Deadline of one webhook request. */
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly logger: Logger;
  /** The HTTP client; tests and later network policy plug in here. */
  readonly dispatcher?: Dispatcher;
}

export interface DeliveryWorker {
  /** Stops taking jobs, lets the attempts in flight finish, then returns. Idempotent. */
  close(): Promise<void>;
  isRunning(): boolean;
}

/** A failed attempt; BullMQ schedules the next one or keeps the job as a dead letter. */
export class DeliveryAttemptError extends Error {
  override readonly name = 'DeliveryAttemptError';
}

export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { logger } = options;

  async function attempt(job: Job<DeliveryJob>): Promise<void> {
    const data = job.data;
    const started = performance.now();
    const body = JSON.stringify(data.payload);
    let outcome: Outcome;
    try {
      const result = await postJson({
        url: data.url,
        body,
        timeoutMs: options.timeoutMs,
        headers: {
          'user-agent': options.userAgent,
          // Standard Webhooks' message id: the same on every attempt, for de-duplication.
          'webhook-id': data.deliveryId,
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        },
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      outcome = classifyResponse(result);
    } catch (err) {
      outcome = classifyError(err);
    }
    const fields = {
      action: 'delivery-attempt',
      deliveryId: data.deliveryId,
      queueId: data.queueId,
      domain: data.domain,
      attempt: job.attemptsMade + 1,
      durationMs: Math.round(performance.now() - started),
    };
    if (outcome.kind === 'delivered') {
      logger.info({ ...fields, outcome: 'delivered', status: outcome.status }, 'delivered');
      return;
    }
    logger.warn({ ...fields, outcome: 'failed', reason: outcome.reason }, 'delivery attempt failed');
    throw new DeliveryAttemptError(outcome.reason);
  }

  const worker = new Worker<DeliveryJob>(DELIVERY_QUEUE, attempt, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // The lock must outlive the slowest attempt (the request timeout) with a wide
    // margin: a job whose lock expires mid-request is taken for stalled, handed to
    // another worker and delivered twice.
    lockDuration: Math.max(30_000, options.timeoutMs * 2 + 30_000),
  });
  worker.on('error', (err) => logger.error({ err }, 'delivery worker error'));
  worker.on('failed', (job, err) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      logger.error({ action: 'dead-letter', deliveryId: job.data.deliveryId, domain: job.data.domain, reason: err.message }, 'delivery dead-lettered');
    }
  });

  return {
    close: () => worker.close(),
    isRunning: () => worker.isRunning(),
  };
}
