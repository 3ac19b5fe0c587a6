import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createMessageIndex, parseMessageQuery, type MessageSummary } from '../../src/delivery/messages.ts';
import { newQueueId } from '../../src/queue/ids.ts';
import { startTestRedis } from '../support/redis.ts';

const T0 = Date.parse('2026-11-28T10:00:00Z');

function summary(at: number, fields: Partial<MessageSummary> = {}): MessageSummary {
  const queueId = newQueueId(at);
  return {
    queueId,
    receivedAt: new Date(at).toISOString(),
    mailFrom: 'alice@sender.test',
    rcptTo: ['someone@ok.test'],
    from: [{ name: 'Alice Example', address: 'alice@sender.test' }],
    to: [{ name: '', address: 'someone@ok.test' }],
    subject: 'Hello',
    messageId: `${queueId.toLowerCase()}@sender.test`,
    routes: ['ok.test'],
    deliveries: [`${queueId}-1`],
    auth: null,
    size: 100,
    attachments: 0,
    remoteAddress: '127.0.0.1',
    ...fields,
  };
}

// The message index against a real Redis, with the clock in the test's hands.
describe('the message index', () => {
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

  function index(retentionMs = 86_400_000) {
    const clock = { now: T0 + 60_000 };
    const prefix = `test-${randomUUID()}`;
    return { clock, prefix, index: createMessageIndex({ redis, prefix, retentionMs, now: () => clock.now }) };
  }
  const ids = (list: { messages: MessageSummary[] }) => list.messages.map((m) => m.queueId);

  test('finds a message by subject, address, display name, Message-ID or id, newest first', async () => {
    const { index: ix } = index();
    const invoice = summary(T0 + 1, { subject: 'Invoice 4821 for March', rcptTo: ['billing@ok.test'] });
    const bob = summary(T0 + 2, { from: [{ name: 'Bob Builder', address: 'bob@elsewhere.test' }], mailFrom: 'bounce@elsewhere.test' });
    const other = summary(T0 + 3, { subject: 'Lunch?' });
    for (const s of [invoice, bob, other]) await ix.record(s);
    assert.deepEqual(ids(await ix.search({})), [other.queueId, bob.queueId, invoice.queueId]);
    assert.deepEqual(ids(await ix.search({ q: 'INVOICE 4821' })), [invoice.queueId]);
    assert.deepEqual(ids(await ix.search({ q: 'billing@' })), [invoice.queueId]);
    assert.deepEqual(ids(await ix.search({ q: 'bob builder' })), [bob.queueId]);
    assert.deepEqual(ids(await ix.search({ q: invoice.messageId! })), [invoice.queueId]);
    assert.deepEqual(ids(await ix.search({ q: `${bob.queueId}-1` })), [bob.queueId]);
    assert.deepEqual(ids(await ix.search({ q: 'nothing like it' })), []);
  });

  test('filters by sender, by recipient, by route and by time range', async () => {
    const { index: ix } = index();
    const a = summary(T0 + 1000, { mailFrom: 'a@one.test', from: [{ name: '', address: 'a@one.test' }], rcptTo: ['x@ok.test'], to: [{ name: '', address: 'cc@ok.test' }] });
    const b = summary(T0 + 2000, { routes: ['fail.test'], rcptTo: ['y@fail.test'] });
    const c = summary(T0 + 3000);
    for (const s of [a, b, c]) await ix.record(s);
    assert.deepEqual(ids(await ix.search({ from: 'one.test' })), [a.queueId]);
    assert.deepEqual(ids(await ix.search({ to: 'cc@ok' })), [a.queueId], 'To and Cc headers count as recipients');
    assert.deepEqual(ids(await ix.search({ to: 'y@fail.test' })), [b.queueId]);
    assert.deepEqual(ids(await ix.search({ route: 'fail.test' })), [b.queueId]);
    assert.deepEqual(ids(await ix.search({ since: T0 + 1500, until: T0 + 3000 })), [c.queueId, b.queueId], 'bounds are inclusive');
    assert.deepEqual(ids(await ix.search({ until: T0 + 1999 })), [a.queueId]);
  });

  test('pages through every message once, messages of the same millisecond included', async () => {
    const { index: ix } = index();
    const all = [T0 + 1, T0 + 2, T0 + 2, T0 + 2, T0 + 3, T0 + 4, T0 + 4].map((at) => summary(at));
    for (const s of all) await ix.record(s);
    const expected = [...all].sort((x, y) => y.receivedAt.localeCompare(x.receivedAt) || y.queueId.localeCompare(x.queueId)).map((s) => s.queueId);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await ix.search({ limit: 2, cursor });
      seen.push(...ids(result));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    assert.deepEqual(seen, expected);
  });

  test('keeps a message for the retention: its record expires, and older ones are neither listed nor kept', async () => {
    const { index: ix, clock, prefix } = index(60_000);
    const old = summary(T0);
    await ix.record(old);
    const ttl = await redis.pttl(`${prefix}:message:${old.queueId}`);
    assert.ok(ttl > 59_000 && ttl <= 60_000, `the record expires in ${ttl} ms`);
    assert.equal(await ix.oldest(), old.receivedAt);
    clock.now = T0 + 60_001;
    assert.deepEqual(ids(await ix.search({})), [], 'older than the retention: not listed');
    assert.equal(await ix.oldest(), null);
    const fresh = summary(T0 + 60_000);
    await ix.record(fresh);
    assert.deepEqual(await redis.zrange(`${prefix}:messages`, 0, '-1'), [fresh.queueId], 'the next write drops it from the set');

    const quick = index(150);
    const gone = summary(Date.now());
    quick.clock.now = Date.now();
    await quick.index.record(gone);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(await quick.index.get(gone.queueId), null, 'Redis expired the record');
  });

  test('reads a query from URL parameters and refuses what it cannot read', () => {
    const ok = parseMessageQuery(new URLSearchParams({ q: ' invoice ', since: '2026-11-28T10:00:00Z', limit: '20', route: 'OK.test' }));
    assert.deepEqual(ok, { q: 'invoice', from: undefined, to: undefined, route: 'ok.test', since: T0, until: undefined, cursor: undefined, limit: 20 });
    assert.match((parseMessageQuery(new URLSearchParams({ since: 'yesterday-ish' })) as { error: string }).error, /ISO 8601/);
    assert.match((parseMessageQuery(new URLSearchParams({ cursor: '../../etc' })) as { error: string }).error, /cursor/);
    assert.match((parseMessageQuery(new URLSearchParams({ limit: '5000' })) as { error: string }).error, /limit/);
  });
});
