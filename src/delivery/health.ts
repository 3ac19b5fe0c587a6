import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { redactUrl } from '../config/settings.ts';
import type { Breakers, EndpointHealth } from './breaker.ts';

/**
 * Endpoint health as every process can see it. Circuit breakers live in each
 * worker's memory (breaker.ts); each worker publishes a small snapshot of them,
 * with its recent attempt counts, to Redis every few seconds:
 *
 *   <prefix>:health:workers     sorted set, worker id scored by its last snapshot (ms)
 *   <prefix>:health:<worker>    that worker's snapshot (JSON), expiring when it stops publishing
 */
export interface EndpointSnapshot extends EndpointHealth {
  /** Attempts and failed attempts (anything but delivered) within the recent window. */
  readonly attempts: number;
  readonly failures: number;
}

export interface WorkerSnapshot {
  readonly worker: string;
  readonly at: string;
  readonly windowMs: number;
  readonly endpoints: readonly EndpointSnapshot[];
}

/** One endpoint across every worker that reported it. */
export interface EndpointSummary {
  readonly endpoint: string;
  /** open when any worker has it open; half-open when one is probing. */
  readonly state: 'closed' | 'open' | 'half-open';
  readonly openIn: number;
  readonly workers: number;
  readonly consecutiveFailures: number;
  readonly inFlight: number;
  readonly attempts: number;
  readonly failures: number;
  /** failures / attempts within the window; null without attempts. */
  readonly failureRate: number | null;
  readonly openUntil: string | null;
}

// Often enough for a console that refreshes every few seconds; a snapshot lives
// a few intervals, so a worker that dies drops out on its own.
export const HEALTH_INTERVAL_MS = 2000;
const SNAPSHOT_TTL_MS = 5 * HEALTH_INTERVAL_MS;
const WINDOW_MS = 5 * 60_000;
const BUCKET_MS = 30_000;

const keys = (prefix: string) => ({ workers: `${prefix}:health:workers`, worker: (id: string) => `${prefix}:health:${id}` });


export function createHealthPublisher(options: { redis: Redis; prefix: string; breakers: Breakers; onError: (err: Error) => void; now?: () => number }) {
  const now = options.now ?? Date.now;
  const worker = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const k = keys(options.prefix);
  // Per endpoint, counts in 30 s buckets over the last five minutes.
  const buckets = new Map<string, { start: number; attempts: number; failures: number }[]>();
  const prune = (list: { start: number }[], t: number) => {
    while (list.length > 0 && list[0]!.start <= t - WINDOW_MS) list.shift();
  };

  function snapshot(): WorkerSnapshot {
    const t = now();
    const endpoints = options.breakers.health().map((h) => {
      const list = buckets.get(h.endpoint) ?? [];
      prune(list, t);
      const sum = (f: 'attempts' | 'failures') => list.reduce((n, b) => n + b[f], 0);
      return { ...h, endpoint: redactUrl(h.endpoint), attempts: sum('attempts'), failures: sum('failures') };
    });
    return { worker, at: new Date(t).toISOString(), windowMs: WINDOW_MS, endpoints };
  }

  let publishing = false;
  async function publish(): Promise<void> {
    // A Redis that is slow or away gets no pile of snapshots queued behind it.
    if (publishing) return;
    publishing = true;
    try {
      const t = now();
      await options.redis
        .multi()
        .set(k.worker(worker), JSON.stringify(snapshot()), 'PX', SNAPSHOT_TTL_MS)
        .zadd(k.workers, t, worker)
        .zremrangebyscore(k.workers, '-inf', `(${t - SNAPSHOT_TTL_MS}`)
        .exec();
    } catch (err) {
      options.onError(err as Error);
    } finally {
      publishing = false;
    }
  }

  let timer: NodeJS.Timeout | null = null;
  return {
    worker,
    snapshot,
    publish,
    /** Counts one attempt at `endpoint`; `ok` when it was delivered. */
    record(endpoint: string, ok: boolean): void {
      const t = now();
      const list = buckets.get(endpoint) ?? [];
      buckets.set(endpoint, list);
      const start = t - (t % BUCKET_MS);
      if (list.at(-1)?.start !== start) list.push({ start, attempts: 0, failures: 0 });
      const bucket = list.at(-1)!;
      bucket.attempts++;
      if (!ok) bucket.failures++;
      prune(list, t);
    },
    start(): void {
      void publish();
      timer = setInterval(() => void publish(), HEALTH_INTERVAL_MS);
      timer.unref();
    },
    /** Stops publishing and withdraws the snapshot; never throws. */
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      // Bounded: with Redis away the worker's connection would hold the command forever,
      // and the snapshot expires by itself anyway.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        options.redis.multi().del(k.worker(worker)).zrem(k.workers, worker).exec().catch(() => {}),
        new Promise((resolve) => (bound = setTimeout(resolve, 1000))),
      ]).finally(() => clearTimeout(bound));
    },
  };
}

export type HealthPublisher = ReturnType<typeof createHealthPublisher>;

/** Reads the snapshots of the workers that published lately. */
export function createHealthReader(redis: Redis, prefix: string, now: () => number = Date.now) {
  const k = keys(prefix);
  return async function read(): Promise<WorkerSnapshot[]> {
    const ids = await redis.zrangebyscore(k.workers, now() - SNAPSHOT_TTL_MS, '+inf');
    if (ids.length === 0) return [];
    const texts = await redis.mget(ids.map(k.worker));
    return texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as WorkerSnapshot);
  };
}

export type HealthReader = ReturnType<typeof createHealthReader>;

/** Every endpoint once, its workers' views combined; the most troubled first. */
export function summarizeEndpoints(snapshots: readonly WorkerSnapshot[]): EndpointSummary[] {
  const byEndpoint = new Map<string, EndpointSnapshot[]>();
  for (const s of snapshots) for (const e of s.endpoints) byEndpoint.set(e.endpoint, [...(byEndpoint.get(e.endpoint) ?? []), e]);
  const rank = { open: 0, 'half-open': 1, closed: 2 } as const;
  return [...byEndpoint.entries()]
    .map(([endpoint, list]) => {
      const sum = (f: 'attempts' | 'failures' | 'inFlight') => list.reduce((n, e) => n + e[f], 0);
      const open = list.filter((e) => e.state === 'open');
      const openUntil = open.reduce<number | null>((max, e) => Math.max(max ?? 0, e.openUntil ?? 0), null);
      const attempts = sum('attempts');
      return {
        endpoint,
        state: open.length > 0 ? 'open' : list.some((e) => e.state === 'half-open') ? 'half-open' : 'closed',
        openIn: open.length,
        workers: list.length,
        consecutiveFailures: Math.max(...list.map((e) => e.consecutiveFailures)),
        inFlight: sum('inFlight'),
        attempts,
        failures: sum('failures'),
        failureRate: attempts > 0 ? sum('failures') / attempts : null,
        openUntil: openUntil ? new Date(openUntil).toISOString() : null,
      } satisfies EndpointSummary;
    })
    .sort((a, b) => rank[a.state] - rank[b.state] || (b.failureRate ?? 0) - (a.failureRate ?? 0) || a.endpoint.localeCompare(b.endpoint));
}
