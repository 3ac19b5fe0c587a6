import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { planDurability, type RedisFacts } from '../../src/queue/connection.ts';
import { createRedisConnection } from '../../src/queue/connection.ts';
import { createDeliveryQueue } from '../../src/queue/deliveries.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { sleep, startRedis } from '../smtp/harness.ts';

const facts = (over: Partial<RedisFacts>): RedisFacts => ({
  version: '7.0.15',
  hasWaitAof: false,
  aofEnabled: true,
  appendfsync: 'everysec',
  maxmemoryPolicy: 'noeviction',
  maxMemory: 0,
  usedMemory: 0,
  connectedReplicas: 0,
  ...over,
});

test('plans the durability wait from what the Redis offers', () => {
  assert.equal(planDurability(facts({ version: '7.2.4', hasWaitAof: true }), 'fsync', 0).kind, 'waitaof');
  assert.equal(planDurability(facts({ appendfsync: 'always' }), 'fsync', 0).kind, 'fsync-always');
  assert.equal(planDurability(facts({ appendfsync: 'always', hasWaitAof: true }), 'auto', 1).kind, 'waitaof', 'WAITAOF also covers replicas');
  const refused = planDurability(facts({}), 'fsync', 0);
  assert.equal(refused.kind, 'refuse');
  assert.match(refused.warning!, /no WAITAOF.*appendfsync everysec/);
  assert.match(planDurability(facts({ aofEnabled: false }), 'fsync', 0).warning!, /appendonly no/);
  assert.match(planDurability(facts({ appendfsync: null }), 'fsync', 0).warning!, /CONFIG GET/);
  const auto = planDurability(facts({ aofEnabled: false }), 'auto', 0);
  assert.equal(auto.kind, 'memory');
  assert.match(auto.warning!, /MXPOST_DURABILITY=fsync/);
  assert.deepEqual(planDurability(facts({ aofEnabled: false }), 'memory', 2), { kind: 'memory', replicas: 2, warning: null });
});

// Redis 7.0 (Debian bookworm's) has no WAITAOF: with MXPOST_DURABILITY=fsync a 250
// needs `appendfsync always`, and a Redis without it gets no mail at all.
describe('durability of an acknowledged message', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  const routes = () => `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`;
  const send = (port: number, subject: string) => sendMail(port, { from: 'alice@sender.test', to: ['durable@example.test'], message: testMessage({ subject }) });

  /** Deliveries stored under `prefix`, counted straight from Redis. */
  async function stored(url: string, prefix: string): Promise<number> {
    const connection = createRedisConnection(url, 'producer', 'test');
    const queue = createDeliveryQueue({ connection, prefix, retentionMs: 60_000, onError: () => undefined });
    try {
      return await queue.backlog();
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }

  before(async () => {
    endpoint = await startEndpoint();
  });
  after(async () => {
    await endpoint?.close();
  });

  test('with fsync required and a Redis that cannot fsync, answers 451 4.3.0 and stores nothing', async () => {
    const redis = await startRedis(['--appendonly', 'no']);
    const receiver = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'receiver', env: { MXPOST_DURABILITY: 'fsync' } });
    try {
      const result = await send(receiver.smtpPort, 'not durable');
      assert.equal(result.data?.code, 451);
      assert.match(result.data!.text, /^4\.3\.0 /);
      assert.equal(await stored(redis.url, receiver.prefix), 0);
    } finally {
      await receiver.close();
      await redis.dispose();
    }
  });

  test('with appendfsync always, a 250 survives Redis being killed (SIGKILL) right after it', async () => {
    const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    const receiver = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'receiver', env: { MXPOST_DURABILITY: 'fsync' } });
    try {
      const result = await send(receiver.smtpPort, 'durable');
      assert.equal(result.data?.code, 250, result.data?.text);
      await redis.kill('SIGKILL');
      await redis.start();
      assert.equal(await stored(redis.url, receiver.prefix), 1, 'the job was on disk before the 250');
    } finally {
      await receiver.close();
      await redis.dispose();
    }
  });

  test('with MXPOST_REDIS_MIN_REPLICAS=1, answers 451 while no replica is connected and 250 once one has the jobs', async () => {
    const primary = await startRedis([]);
    const receiver = await startMxpost({ redisUrl: primary.url, routes: routes(), role: 'receiver', env: { MXPOST_DURABILITY: 'memory', MXPOST_REDIS_MIN_REPLICAS: '1' } });
    let replica: Awaited<ReturnType<typeof startRedis>> | null = null;
    try {
      const alone = await send(receiver.smtpPort, 'no replica');
      assert.equal(alone.data?.code, 451);
      assert.equal(await stored(primary.url, receiver.prefix), 0, 'nothing is stored when the replicas are known to be missing');

      replica = await startRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
      let reply;
      for (let i = 0; i < 50; i++) {
        reply = (await send(receiver.smtpPort, 'replicated')).data;
        if (reply?.code === 250) break;
        await sleep(200);
      }
      assert.equal(reply?.code, 250, reply?.text);
      assert.equal(await stored(replica.url, receiver.prefix), 1, 'the replica has the job');
    } finally {
      await receiver.close();
      await replica?.dispose();
      await primary.dispose();
    }
  });
});
