import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_CLIENT_ERROR_ATTEMPTS, DEFAULT_RETRY_WINDOW_MS, type DeliveryPolicy, type DomainRoute, type Routes } from '../config/routes.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Tracing } from '../observability/tracing.ts';
import { DELIVERY_QUEUE, type DeliveryJob, type StoredDeliveryJob } from '../queue/deliveries.ts';
import type { AttemptLog } from './attempts.ts';
import { createBreakers, type Breakers } from './breaker.ts';
import { createHealthPublisher } from './health.ts';
import { addressPolicyFor, checkLiteralHost, createDispatchers } from './network.ts';
import { classifyError, classifyResponse, type Outcome } from './outcome.ts';
import { postJson, type PostResult } from './post.ts';
import { planRetry, type RetrySchedule } from './schedule.ts';
import { webhookHeaders } from './sign.ts';

export interface DeliveryWorkerOptions {
  readonly connection: Redis;
  readonly prefix: string;
  readonly concurrency: number;
  /** Deadline of one webhook request: connect, headers and body. */
  readonly timeoutMs: number;
  readonly schedule: RetrySchedule;
  /** MXPOST_ALLOW_PRIVATE_ENDPOINTS: the default of routes that do not say. */
  readonly allowPrivateEndpoints: boolean;
  readonly userAgent: string;
  /** The routes in force: secrets and response rules are read at each attempt. */
  readonly routes: () => Routes;
  readonly attempts: AttemptLog;
  /** Joins a stored job with its message (queue/deliveries.ts); null when the message has expired. */
  readonly load: (stored: StoredDeliveryJob) => Promise<DeliveryJob | null>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracing: Tracing;
}

export interface DeliveryWorker {
  /** Stops taking jobs, lets the attempts in flight finish, then returns. Idempotent. */
  close(): Promise<void>;
  isRunning(): boolean;
  readonly breakers: Breakers;
}

/** A failed attempt to be retried after `delayMs`; the backoff strategy below reads it. */
class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  readonly delayMs: number;
  constructor(reason: string, delayMs: number) {
    super(reason);
    this.delayMs = delayMs;
  }
}

const DEFAULT_POLICY: DeliveryPolicy = {
  retryWindowMs: DEFAULT_RETRY_WINDOW_MS,
  clientErrorAttempts: DEFAULT_CLIENT_ERROR_ATTEMPTS,
  permanentStatuses: new Set([410]),
  allowPrivate: null,
  allowLinkLocal: false,
};

export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { logger, metrics } = options;
  const dispatchers = createDispatchers({ connectTimeoutMs: options.timeoutMs });
  const breakers = createBreakers({
    failureThreshold: 5,
    openMs: 30_000,
    maxOpenMs: 10 * 60_000,
    // Half the slots at most for one endpoint: a slow one cannot take them all.
    maxInFlight: Math.max(1, Math.ceil(options.concurrency / 2)),
  });
  // The breakers are this process's; a snapshot in Redis lets the console see them from any process.
  const health = createHealthPublisher({
    redis: options.connection,
    prefix: options.prefix,
    breakers,
    onError: (err) => logger.warn({ err: { message: err.message } }, 'endpoint health not published'),
  });
  health.start();

  async function attempt(job: Job<StoredDeliveryJob>, token?: string): Promise<void> {
    const data = job.data;
    const route = options.routes().domains.get(data.domain);
    const policy = route?.delivery ?? DEFAULT_POLICY;
    const endpoint = route && endpointOf(route, data);

    // A held delivery comes due only when nobody released it within the retention.
    if (data.held) {
      const reason = `held by rule ${data.held.rule} since ${data.held.since} and not released within MXPOST_RETENTION`;
      logger.warn({ action: 'hold-expired', deliveryId: data.deliveryId, queueId: data.queueId, domain: data.domain, rule: data.held.rule }, 'held delivery dead-lettered');
      metrics.deadLetters.inc({ domain: data.domain });
      await recordSafely(data.deliveryId, { attempt: 0, at: new Date().toISOString(), durationMs: 0, status: null, responseStart: null, outcome: 'dead-letter', reason, nextAttemptAt: null });
      throw new UnrecoverableError(reason);
    }
    const admission = breakers.admit(data.url);
    if (!admission.ok) {
      metrics.deliveryAttempts.inc({ domain: data.domain, outcome: 'deferred' });
      // Put back to wait without an attempt and without holding a slot.
      await job.moveToDelayed(admission.retryAt + Math.floor(Math.random() * 1000), token);
      throw new DelayedError();
    }

    const number = job.attemptsMade + 1;
    const started = Date.now();
    const span = options.tracing.start('webhook delivery attempt', {
      kind: 'client',
      parent: data.traceparent,
      attributes: { 'mxpost.delivery_id': data.deliveryId, 'mxpost.domain': data.domain, 'mxpost.attempt': number, 'http.request.method': 'POST' },
    });
    let result: PostResult | null = null;
    let outcome: Outcome;
    try {
      if (!endpoint) throw Object.assign(new Error(`the routes no longer have ${data.ref ? `rule ${data.ref.name} endpoint ${data.ref.endpoint + 1} of ` : data.address ? `${data.address}@` : ''}${data.domain}: cannot sign`), { name: 'RouteGoneError' });
      const addressPolicy = addressPolicyFor(policy, options.allowPrivateEndpoints);
      checkLiteralHost(data.url, addressPolicy);
      const loaded = await options.load(data);
      if (!loaded) throw Object.assign(new Error(`the message ${data.queueId} is no longer stored (kept for its retry window and MXPOST_RETENTION)`), { name: 'MessageGoneError' });
      const body = JSON.stringify(loaded.payload);
      const timestamp = Math.floor(started / 1000);
      result = await postJson({
        url: data.url,
        body,
        timeoutMs: options.timeoutMs,
        dispatcher: dispatchers.for(addressPolicy),
        headers: {
          'user-agent': options.userAgent,
          ...webhookHeaders(endpoint.secrets, data.deliveryId, timestamp, body),
          ...(span.traceparent ? { traceparent: span.traceparent } : {}),
        },
      });
      outcome = classifyResponse(result, policy, number);
    } catch (err) {
      outcome = classifyError(err, options.timeoutMs);
    }
    if (result) span.setAttributes({ 'http.response.status_code': result.status });
    span.end(outcome.kind === 'delivered' ? undefined : outcome.reason);
    // An endpoint that answered with a verdict on the request is up, whatever the verdict.
    breakers.release(data.url, outcome.kind === 'delivered' || (outcome.kind === 'permanent' && result !== null));
    health.record(data.url, outcome.kind === 'delivered');

    const durationMs = Date.now() - started;
    let next: { delayMs: number } | null = null;
    if (outcome.kind === 'retry') {
      const plan = planRetry({
        failedAttempts: number,
        windowStartedAt: data.windowStartedAt ?? Date.parse(data.part.receivedAt),
        windowMs: policy.retryWindowMs,
        now: Date.now(),
        retryAfterMs: outcome.retryAfterMs,
        schedule: options.schedule,
      });
      if (plan.kind === 'expired') outcome = { kind: 'permanent', reason: `retry window spent; last attempt: ${outcome.reason}` };
      else next = plan;
    }

    const fields = { action: 'delivery-attempt', deliveryId: data.deliveryId, queueId: data.queueId, domain: data.domain, attempt: number, durationMs, status: result?.status };
    const record = {
      attempt: number,
      at: new Date(started).toISOString(),
      durationMs,
      status: result?.status ?? null,
      responseStart: result?.bodyStart ?? null,
    };
    if (outcome.kind === 'delivered') {
      logger.info({ ...fields, outcome: 'delivered' }, 'delivered');
      metrics.deliveryAttempts.inc({ domain: data.domain, outcome: 'delivered' });
      metrics.deliveryLatency.observe({ domain: data.domain }, (Date.now() - Date.parse(data.part.receivedAt)) / 1000);
      await recordSafely(data.deliveryId, { ...record, outcome: 'delivered', reason: null, nextAttemptAt: null });
      return;
    }
    if (outcome.kind === 'permanent' || next === null) {
      logger.error({ ...fields, outcome: 'dead-letter', reason: outcome.reason }, 'delivery dead-lettered');
      metrics.deliveryAttempts.inc({ domain: data.domain, outcome: 'dead_letter' });
      metrics.deadLetters.inc({ domain: data.domain });
      await recordSafely(data.deliveryId, { ...record, outcome: 'dead-letter', reason: outcome.reason, nextAttemptAt: null });
      throw new UnrecoverableError(outcome.reason);
    }
    const nextAttemptAt = new Date(Date.now() + next.delayMs).toISOString();
    logger.warn({ ...fields, outcome: 'retry', reason: outcome.reason, nextAttemptAt }, 'delivery attempt failed');
    metrics.deliveryAttempts.inc({ domain: data.domain, outcome: 'retry' });
    await recordSafely(data.deliveryId, { ...record, outcome: 'retry', reason: outcome.reason, nextAttemptAt });
    throw new RetryLaterError(outcome.reason, next.delayMs);
  }

  async function recordSafely(deliveryId: string, record: Parameters<AttemptLog['append']>[1]): Promise<void> {
    // The record is for reading back; losing one must not change the delivery's fate.
    await options.attempts.append(deliveryId, record).catch((err: Error) => logger.warn({ err, deliveryId }, 'attempt not recorded'));
  }

  // The lock must outlive the slowest attempt (the request timeout) with a wide
  // margin: a job whose lock lapses mid-request is taken for stalled, handed to
  // another worker and delivered twice. After a crash, the lapsed lock is what
  // lets another worker take the job: the stalled check runs at the same pace.
  const lockDuration = options.timeoutMs * 2 + 5000;
  const worker = new Worker<StoredDeliveryJob>(DELIVERY_QUEUE, attempt, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration,
    stalledInterval: Math.min(30_000, lockDuration),
    maxStalledCount: 3,
    settings: {
      backoffStrategy: (_attempts: number, _type?: string, err?: Error) => (err instanceof RetryLaterError ? err.delayMs : options.schedule.baseDelayMs),
    },
  });
  worker.on('error', (err) => logger.error({ err }, 'delivery worker error'));

  let closing: Promise<void> | null = null;
  return {
    breakers,
    close() {
      closing ??= worker.close().finally(() => Promise.all([dispatchers.close(), health.close()]));
      return closing;
    },
    isRunning: () => worker.isRunning(),
  };
}

/** The endpoint whose secrets sign a delivery: a rule's, an address's or the domain's, as the routes say now. */
function endpointOf(route: DomainRoute, data: StoredDeliveryJob): { readonly secrets: readonly string[] } | undefined {
  if (data.ref) return route.rules.find((rule) => rule.name === data.ref!.name)?.to[data.ref.endpoint];
  return data.address === null ? route.endpoint : route.addresses.get(data.address);
}
