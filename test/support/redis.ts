import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, type RedisServer } from '../../src/queue/redis-server.ts';

/**
 * A real redis-server for one test file, on a free port, its data in a
 * temporary folder that is removed after. Tests share it through unique key
 * prefixes (see mxpost.ts), as BullMQ's own tests do.
 */
export async function startTestRedis(): Promise<RedisServer & { dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpost-redis-'));
  // A port taken between freePort() and redis-server's bind makes it exit: try again.
  for (let tries = 0; ; tries++) {
    try {
      const redis = await startRedisServer({ dir });
      return {
        ...redis,
        async dispose() {
          await redis.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      if (tries >= 3) throw err;
    }
  }
}
