import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBreakers } from '../../src/delivery/breaker.ts';
import { createHealthPublisher, createHealthReader, summarizeEndpoints, type WorkerSnapshot } from '../../src/delivery/health.ts';
import { startTestRedis } from '../support/redis.ts';

const T0 = Date.parse('2026-11-28T10:00:00Z');

// Endpoint health leaves each worker's memory through Redis, so that any
// process (a receiver, the CLI) can show it.
describe('endpoint health snapshots', () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  before(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  function worker(prefix: string, clock: { now: number }) {
    const breakers = createBreakers({ failureThreshold: 2, openMs: 30_000, maxOpenMs: 60_000, maxInFlight: 4, now: () => clock.now });
    const publisher = createHealthPublisher({ redis, prefix, breakers, onError: (err) => assert.fail(err), now: () => clock.now });
    /** One attempt as the worker makes it: admitted, then released and counted. */
    const attempt = (url: string, ok: boolean) => {
      assert.equal(breakers.admit(url).ok, true);
      breakers.release(url, ok);
      publisher.record(url, ok);
    };
    return { breakers, publisher, attempt };
  }

  test('publishes each worker’s circuits and recent failure counts, read back from Redis', async () => {
    const prefix = `test-${randomUUID()}`;
    const clock = { now: T0 };
    const w = worker(prefix, clock);
    w.attempt('http://user:secret@down.test/hook', false);
    w.attempt('http://user:secret@down.test/hook', false);
    w.attempt('http://ok.test/hook', true);
    w.attempt('http://ok.test/hook', false);
    await w.publisher.publish();
    const [snapshot, ...rest] = await createHealthReader(redis, prefix, () => clock.now)();
    assert.equal(rest.length, 0);
    const byUrl = new Map(snapshot!.endpoints.map((e) => [e.endpoint, e]));
    assert.deepEqual([...byUrl.keys()].sort(), ['http://***@down.test/hook', 'http://ok.test/hook'], 'credentials never leave the process');
    assert.equal(byUrl.get('http://***@down.test/hook')!.state, 'open');
    assert.deepEqual([byUrl.get('http://ok.test/hook')!.attempts, byUrl.get('http://ok.test/hook')!.failures], [2, 1]);
  });

  test('counts only the last five minutes of attempts', async () => {
    const prefix = `test-${randomUUID()}`;
    const clock = { now: T0 };
    const w = worker(prefix, clock);
    w.attempt('http://ok.test/hook', false);
    clock.now += 4 * 60_000;
    w.attempt('http://ok.test/hook', true);
    assert.deepEqual(w.publisher.snapshot().endpoints.map((e) => [e.attempts, e.failures]), [[2, 1]]);
    clock.now += 90_000;
    assert.deepEqual(w.publisher.snapshot().endpoints.map((e) => [e.attempts, e.failures]), [[1, 0]]);
  });

  test('forgets a worker that stopped publishing, and one that closed at once', async () => {
    const prefix = `test-${randomUUID()}`;
    const clock = { now: T0 };
    const [a, b] = [worker(prefix, clock), worker(prefix, clock)];
    await a.publisher.publish();
    await b.publisher.publish();
    const read = createHealthReader(redis, prefix, () => clock.now);
    assert.equal((await read()).length, 2);
    await b.publisher.close();
    assert.deepEqual((await read()).map((s) => s.worker), [a.publisher.worker]);
    clock.now += 11_000;
    assert.deepEqual(await read(), [], 'a silent worker drops out within a few intervals');
  });

  test('combines the workers’ views of an endpoint: open in some, rates summed, the worst first', () => {
    const endpoint = (url: string, state: 'open' | 'closed', attempts: number, failures: number) => ({
      endpoint: url, state, consecutiveFailures: failures, inFlight: 1, openUntil: state === 'open' ? T0 + 30_000 : null, attempts, failures,
    });
    const snapshots: WorkerSnapshot[] = [
      { worker: 'a', at: '', windowMs: 300_000, endpoints: [endpoint('http://x.test/', 'open', 6, 6), endpoint('http://y.test/', 'closed', 10, 0)] },
      { worker: 'b', at: '', windowMs: 300_000, endpoints: [endpoint('http://x.test/', 'closed', 4, 0)] },
    ];
    const [x, y] = summarizeEndpoints(snapshots);
    assert.equal(x!.endpoint, 'http://x.test/');
    assert.deepEqual([x!.state, x!.openIn, x!.workers, x!.attempts, x!.failures, x!.failureRate, x!.inFlight], ['open', 1, 2, 10, 6, 0.6, 2]);
    assert.equal(x!.openUntil, new Date(T0 + 30_000).toISOString());
    assert.deepEqual([y!.state, y!.failureRate], ['closed', 0]);
  });
});
