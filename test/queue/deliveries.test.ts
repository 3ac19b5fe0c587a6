import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { parseRoutes } from '../../src/config/routes.ts';
import { createRedisConnection } from '../../src/queue/connection.ts';
import { createDeliveryQueue, EnqueueError, messageKey, type DeliveryJob } from '../../src/queue/deliveries.ts';
import { buildTestPayloads, crlf } from '../message/support.ts';
import { startTestRedis } from '../support/redis.ts';

const routes = parseRoutes(
  `
domains:
  one.test: { url: "http://h/one", recipients: ["*"] }
  two.test: { url: "http://h/two", recipients: ["*"], raw: true }
`,
  { source: 'test', env: {} },
);

async function jobsFor(queueId: string, rcptTo: string[]): Promise<DeliveryJob[]> {
  const raw = crlf(`From: a@sender.test\nTo: x@one.test\nSubject: stored\nContent-Type: text/plain\n\nhello\n`);
  const built = await buildTestPayloads(routes, raw, rcptTo, queueId);
  return built.map(({ plan, payload }) => ({ deliveryId: payload.id, queueId, domain: plan.domain, address: null, url: plan.endpoint.url, windowStartedAt: 0, payload }));
}

let redis: Awaited<ReturnType<typeof startTestRedis>>;
before(async () => {
  redis = await startTestRedis();
});
after(async () => {
  await redis?.dispose();
});

function open(prefix: string, url = redis.url) {
  const connection = createRedisConnection(url, 'producer', 'test');
  const queue = createDeliveryQueue({ connection, prefix, retentionMs: 60_000, onError: () => undefined });
  return {
    connection,
    queue,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

test('stores a message with one delivery and with two, and gives each payload back whole', async () => {
  const { queue, close } = open(`t-${randomUUID()}`);
  try {
    for (const rcptTo of [['x@one.test'], ['x@one.test', 'y@two.test']]) {
      const queueId = `Q${rcptTo.length}`;
      const jobs = await jobsFor(queueId, rcptTo);
      await queue.enqueue(jobs, 5000);
      for (const job of jobs) {
        const stored = await queue.queue.getJob(job.deliveryId);
        assert.ok(stored, `job ${job.deliveryId} stored`);
        assert.deepEqual(await queue.load(stored.data), job);
      }
    }
    assert.equal(await queue.backlog(), 3);
  } finally {
    await close();
  }
});

test('leaves no job without its message when Redis refuses the message but would take the jobs', async () => {
  // The message's SET and the jobs go to Redis together (deliveries.ts). A Redis
  // user that may write the queue's keys but not the message's stands for a
  // Redis that refuses only the message.
  const prefix = `t-${randomUUID()}`;
  const admin = createRedisConnection(redis.url, 'worker', 'admin');
  await admin.call('ACL', 'SETUSER', 'queue-only', 'on', '>secret', `~${prefix}:deliveries*`, '+@all');
  const url = redis.url.replace('redis://', 'redis://queue-only:secret@');
  const { connection, queue, close } = open(prefix, url);
  try {
    for (const rcptTo of [['x@one.test'], ['x@one.test', 'y@two.test']]) {
      const jobs = await jobsFor(`R${rcptTo.length}`, rcptTo);
      await assert.rejects(queue.enqueue(jobs, 5000), (err: Error) => err instanceof EnqueueError && /NOPERM|permission/i.test(err.message));
      // (A Job is not compared whole: it holds the queue and its connection.)
      for (const job of jobs) assert.equal((await queue.queue.getJob(job.deliveryId))?.id, undefined, `job ${job.deliveryId} taken back`);
      assert.equal(await admin.exists(messageKey(prefix, jobs[0]!.queueId)), 0);
    }
    assert.equal(await queue.backlog(), 0);
  } finally {
    await close();
    connection.disconnect();
    await admin.call('ACL', 'DELUSER', 'queue-only');
    admin.disconnect();
  }
});
