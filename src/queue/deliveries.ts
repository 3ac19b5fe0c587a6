import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Payload } from '../message/payload.ts';
import { joinPayload, splitPayloads, type DeliveryPart, type SharedMessage } from '../message/stored.ts';
import { DEFAULT_RETRY_WINDOW_MS } from '../config/routes.ts';
import type { RuleRef } from '../routing/resolve.ts';
import type { Durability } from './connection.ts';

export const DELIVERY_QUEUE = 'deliveries';

/** Every state a delivery job can be in, as BullMQ counts them ('failed' is a dead letter). */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

/** What the worker needs to make one delivery; secrets stay in the routes file, never in Redis. */
export interface DeliveryJob {
  readonly deliveryId: string;
  /** The accepted message this delivery belongs to (the id in the 250 reply). */
  readonly queueId: string;
  /** Domain route and, for a per-address override, its local part: how the worker finds the secrets. */
  readonly domain: string;
  readonly address: string | null;
  /** For a rule's endpoint, which one: its secrets sign the delivery (routing/resolve.ts). */
  readonly ref?: RuleRef | null | undefined;
  /** Held by a rule until released (delivery/held.ts); null or absent: deliver. */
  readonly held?: { readonly rule: string; readonly since: string } | null | undefined;
  readonly url: string;
  /** When the retry window started: acceptance, or the latest replay (ms since epoch). */
  readonly windowStartedAt: number;
  /** The SMTP transaction's trace context (W3C traceparent), when tracing is on. */
  readonly traceparent?: string | undefined;
  readonly payload: Payload;
}

/**
 * A delivery as its BullMQ job holds it: the payload's own part only. The
 * message that all deliveries of it share is stored once beside the jobs, under
 * `<prefix>:message:<queueId>`, and joined back when the job runs (`load`).
 */
export interface StoredDeliveryJob extends Omit<DeliveryJob, 'payload'> {
  /** For listings, without loading the message. */
  readonly subject: string;
  readonly part: DeliveryPart;
}

/** Where the message that all deliveries of one accepted message share is kept. */
export const messageKey = (prefix: string, queueId: string) => `${prefix}:content:${queueId}`;

export interface DeliveryQueue {
  /**
   * Stores every job or fails: resolves only once Redis has all of them (as durably
   * as `durability` asks), rejects with EnqueueError when Redis is unreachable or
   * slower than `timeoutMs`. Nothing is written once `signal` has aborted.
   */
  enqueue(jobs: readonly DeliveryJob[], timeoutMs: number, signal?: AbortSignal, options?: { retryWindowMs?: number }): Promise<void>;
  /** The delivery with its whole payload; null when its message has expired. */
  load(stored: StoredDeliveryJob): Promise<DeliveryJob | null>;
  /** Keeps a message readable for at least a retry window and the retention more (a replay). */
  keep(queueId: string, retryWindowMs: number): Promise<void>;
  /** Deliveries not done yet: waiting, delayed (retries) or prioritized. */
  backlog(): Promise<number>;
  readonly queue: Queue<StoredDeliveryJob>;
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
  /** What a stored job waits for before enqueue resolves (connection.ts); none: Redis's reply. */
  durability?: Durability;
}): DeliveryQueue {
  const queue = new Queue<StoredDeliveryJob>(DELIVERY_QUEUE, {
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
    async enqueue(jobs, timeoutMs, signal, extra = {}) {
      const durability = options.durability;
      // Each message's shared part once, however many of its deliveries are stored.
      const messages = new Map<string, DeliveryJob[]>();
      for (const job of jobs) messages.set(job.queueId, [...(messages.get(job.queueId) ?? []), job]);
      const stored: StoredDeliveryJob[] = [];
      const shared = new Map<string, SharedMessage>();
      for (const [queueId, group] of messages) {
        const split = splitPayloads(group.map((job) => job.payload));
        shared.set(queueId, split.shared);
        group.forEach(({ payload, ...job }, index) => stored.push({ ...job, subject: payload.message.subject, part: split.parts[index]! }));
      }
      const keepMs = (extra.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS) + options.retentionMs;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EnqueueError(`Redis did not store the deliveries within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const store = async () => {
          await durability?.before();
          if (signal?.aborted) throw new EnqueueError('the client was answered before the deliveries were stored');
          // The message is written on the connection directly: wait, as BullMQ does
          // for its own commands, until it is ready (within the deadline above).
          await queue.waitUntilReady();
          // The message and its jobs in one round trip: the message's SET is sent
          // first, then the jobs, on the one connection BullMQ shares (BullMQ
          // wraps it, it does not duplicate it), and Redis runs a connection's
          // commands in the order they came. So a job is never stored before its
          // message. If the jobs fail, the message expires unread.
          const written = [...shared].map(([queueId, message]) => options.connection.set(messageKey(options.prefix, queueId), JSON.stringify(message), 'PX', keepMs));
          // One job (one route, the usual case) goes in as one command; addBulk
          // builds an ioredis Pipeline, which copies every BullMQ script onto itself.
          // A held delivery waits, delayed, until released; unreleased, it comes due
          // after the retention and the worker dead-letters it.
          const opts = (data: StoredDeliveryJob) => ({ jobId: data.deliveryId, ...(data.held ? { delay: options.retentionMs } : {}) });
          const added =
            stored.length === 1
              ? queue.add('deliver', stored[0]!, opts(stored[0]!))
              : queue.addBulk(stored.map((data) => ({ name: 'deliver', data, opts: opts(data) })));
          const [messages, jobs] = await Promise.allSettled([Promise.all(written), added]);
          if (messages.status === 'rejected') {
            // Redis refused the message but took its jobs (Redis runs them after
            // it): take the jobs back, so that none is left without its message.
            if (jobs.status === 'fulfilled') await Promise.allSettled(stored.map((data) => queue.remove(data.deliveryId)));
            throw messages.reason;
          }
          if (jobs.status === 'rejected') throw jobs.reason;
          await durability?.after(timeoutMs);
        };
        await Promise.race([store(), deadline]);
      } catch (err) {
        throw err instanceof EnqueueError ? err : new EnqueueError(`Redis refused the deliveries: ${(err as Error).message}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
    async load(stored) {
      const text = await options.connection.get(messageKey(options.prefix, stored.queueId));
      if (text === null) return null;
      const { subject: _subject, part, ...job } = stored;
      return { ...job, payload: joinPayload(JSON.parse(text) as SharedMessage, part) };
    },
    async keep(queueId, retryWindowMs) {
      const key = messageKey(options.prefix, queueId);
      const wanted = retryWindowMs + options.retentionMs;
      if ((await options.connection.pttl(key)) < wanted) await options.connection.pexpire(key, wanted);
    },
    async backlog() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    async close() {
      options.durability?.close();
      await queue.close();
    },
  };
}
