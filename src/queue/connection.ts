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
