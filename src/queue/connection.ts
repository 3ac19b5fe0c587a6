import { Redis } from 'ioredis';

/**
 * Redis connections for the two sides of the queue. They differ on purpose:
 * - the producer (the SMTP receiver) must fail fast: with ioredis's offline
 *   queue a command issued while Redis is away waits forever, and the sender
 *   waits with it. Without it, the enqueue fails and the sender gets 451.
 * - the worker's blocking commands must wait through outages, which BullMQ
 *   requires as `maxRetriesPerRequest: null`.
 */
export function createRedisConnection(url: string, role: 'producer' | 'worker', name: string): Redis {
  return new Redis(url, {
    connectionName: `mxpost-${name}`,
    enableOfflineQueue: role === 'worker',
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    // Reconnect quickly at first, then every 2 s at most: an outage ends with the
    // next attempt, not minutes later.
    retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
  });
}

/** What the receiver needs to know about the Redis behind a connection (docs/smtp.md, durability). */
export interface RedisFacts {
  readonly version: string;
  /** WAITAOF exists (Redis 7.2+, Valkey): a client can wait for its writes to be fsynced. */
  readonly hasWaitAof: boolean;
  readonly aofEnabled: boolean;
  /** `always`, `everysec` or `no`; null when CONFIG is not allowed (managed Redis often renames it). */
  readonly appendfsync: string | null;
  readonly maxmemoryPolicy: string;
  /** Bytes; 0: Redis has no memory limit. */
  readonly maxMemory: number;
  readonly usedMemory: number;
  /** Replicas in sync (state=online): only these can acknowledge a write. */
  readonly connectedReplicas: number;
}

export async function inspectRedis(redis: Redis): Promise<RedisFacts> {
  const [info, waitaof, fsync] = await Promise.all([
    redis.info(),
    // Managed Redis (ElastiCache, MemoryDB) refuses some admin commands: a
    // refusal reads as "not available", never as a failure to inspect.
    (redis.call('COMMAND', 'INFO', 'WAITAOF') as Promise<unknown[]>).catch(() => null),
    (redis.call('CONFIG', 'GET', 'appendfsync') as Promise<string[]>).catch(() => null),
  ]);
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
  return {
    version: field('valkey_version') || field('redis_version'),
    hasWaitAof: Array.isArray(waitaof) && waitaof[0] != null,
    aofEnabled: field('aof_enabled') === '1',
    appendfsync: fsync?.[1] ?? null,
    maxmemoryPolicy: field('maxmemory_policy'),
    maxMemory: Number(field('maxmemory')) || 0,
    usedMemory: Number(field('used_memory')) || 0,
    // Only replicas in sync can acknowledge a write; one still loading its first
    // copy would make every WAIT time out after the jobs were stored.
    connectedReplicas: info.match(/^slave\d+:.*state=online/gm)?.length ?? 0,
  };
}

/** `used_memory` and `maxmemory` only: the overload gate reads them about once a second. */
export async function readRedisMemory(redis: Redis): Promise<{ usedMemory: number; maxMemory: number }> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { usedMemory: field('used_memory'), maxMemory: field('maxmemory') };
}

/**
 * What a 250 waits for once the jobs are written (MXPOST_DURABILITY):
 * - `fsync`: the jobs are on disk in Redis's append-only file: WAITAOF where Redis
 *   has it, else Redis must run `appendfsync always` (its reply then comes after
 *   the fsync). A Redis that can do neither gets no mail: 451.
 * - `auto` (default): `fsync` when the Redis can; otherwise what the Redis gives,
 *   with a warning at start-up saying what a crash of Redis would lose.
 * - `memory`: Redis has the jobs in memory; a crash of Redis loses what it had not
 *   written (appendfsync everysec: about a second; no AOF: everything since the
 *   last snapshot).
 * In every mode, MXPOST_REDIS_MIN_REPLICAS > 0 also waits for that many replicas.
 */
export type DurabilityMode = 'auto' | 'fsync' | 'memory';

export type DurabilityPlan =
  | { readonly kind: 'waitaof' | 'fsync-always' | 'memory'; readonly replicas: number; readonly warning: string | null }
  | { readonly kind: 'refuse'; readonly replicas: number; readonly warning: string };

/** Pure: the plan for a Redis and a mode. */
export function planDurability(facts: RedisFacts, mode: DurabilityMode, replicas: number): DurabilityPlan {
  if (mode === 'memory') return { kind: 'memory', replicas, warning: null };
  if (facts.aofEnabled && facts.hasWaitAof) return { kind: 'waitaof', replicas, warning: null };
  if (facts.aofEnabled && facts.appendfsync === 'always') return { kind: 'fsync-always', replicas, warning: null };
  const why = !facts.aofEnabled
    ? `Redis ${facts.version} runs with appendonly no: accepted mail lives only in memory until its next snapshot`
    : facts.appendfsync === null
      ? `Redis ${facts.version} has no WAITAOF (7.2+) and does not allow CONFIG GET appendfsync, so fsync cannot be confirmed`
      : `Redis ${facts.version} has no WAITAOF (7.2+) and runs appendfsync ${facts.appendfsync}: a crash of its machine loses up to a second of accepted mail`;
  if (mode === 'fsync') return { kind: 'refuse', replicas, warning: `${why}; refusing mail (451) until Redis runs appendfsync always or is 7.2+` };
  return { kind: 'memory', replicas, warning: `${why}. Set appendfsync always (or use Redis 7.2+), or MXPOST_DURABILITY=fsync to refuse mail rather than risk it` };
}

export interface Durability {
  /** Before writing: fails when the plan cannot be met, so nothing is stored for a 451. */
  before(): Promise<void>;
  /** After writing: resolves once this connection's writes are as durable as planned. */
  after(timeoutMs: number): Promise<void>;
  close(): void;
}

// How often the plan is re-read from Redis besides each (re)connect: a CONFIG SET
// or a replica going away is noticed within this.
const REFRESH_MS = 10_000;

/**
 * The durability wait on the producer connection. WAITAOF and WAIT block the
 * connection that issues them, and they must be issued on the connection that
 * wrote (they wait for *its* writes). So one wait in flight covers every write
 * sent before it, and callers that arrive meanwhile share the next one: the
 * connection is blocked for at most one fsync at a time, not one per message.
 */
export function createDurability(redis: Redis, options: { mode: DurabilityMode; replicas: number; report(plan: DurabilityPlan, facts: RedisFacts): void }): Durability {
  let plan: DurabilityPlan | null = null;
  let facts: RedisFacts | null = null;
  let refreshedAt = 0;
  const refresh = async () => {
    refreshedAt = Date.now();
    facts = await inspectRedis(redis);
    const next = planDurability(facts, options.mode, options.replicas);
    if (!plan || next.kind !== plan.kind || next.warning !== plan.warning) options.report(next, facts);
    plan = next;
  };
  const quietRefresh = () => void refresh().catch(() => undefined);
  redis.on('ready', quietRefresh);
  if (redis.status === 'ready') quietRefresh();
  const timer = setInterval(quietRefresh, REFRESH_MS).unref();

  const issue = async (timeoutMs: number): Promise<void> => {
    const wanted = plan!;
    const wait = Math.max(1, Math.floor(timeoutMs));
    if (wanted.kind === 'waitaof') {
      const [local, replicas] = (await redis.call('WAITAOF', 1, wanted.replicas, wait)) as [number, number];
      if (local < 1) throw new Error(`Redis did not fsync the deliveries within ${wait} ms`);
      if (replicas < wanted.replicas) throw new Error(`${replicas} of ${wanted.replicas} replicas fsynced the deliveries within ${wait} ms`);
    } else if (wanted.replicas > 0) {
      const replicas = (await redis.call('WAIT', wanted.replicas, wait)) as number;
      if (replicas < wanted.replicas) throw new Error(`${replicas} of ${wanted.replicas} replicas acknowledged the deliveries within ${wait} ms`);
    }
  };
  let current: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const flush = (timeoutMs: number): Promise<void> => {
    if (!current) {
      current = issue(timeoutMs).finally(() => (current = null));
      return current;
    }
    next ??= current.catch(() => undefined).then(() => {
      next = null;
      return flush(timeoutMs);
    });
    return next;
  };

  return {
    async before() {
      const unmet = () => plan === null || plan.kind === 'refuse' || facts!.connectedReplicas < plan.replicas;
      // A Redis put right (CONFIG SET, a replica back) is noticed by the next
      // transaction, at most a second later, not only at the periodic refresh.
      if (plan === null || (unmet() && Date.now() - refreshedAt >= 1000)) await refresh();
      if (plan!.kind === 'refuse') throw new Error(plan!.warning);
      if (facts!.connectedReplicas < plan!.replicas) throw new Error(`${facts!.connectedReplicas} Redis replicas connected, ${plan!.replicas} required`);
    },
    after(timeoutMs) {
      if (plan!.kind !== 'waitaof' && plan!.replicas === 0) return Promise.resolve();
      return flush(timeoutMs);
    },
    close() {
      clearInterval(timer);
      redis.off('ready', quietRefresh);
    },
  };
}
