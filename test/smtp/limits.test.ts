import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientKey, parseTrustedProxies } from '../../src/smtp/addresses.ts';
import { ConnectionCounter, createDataBudget } from '../../src/smtp/limits.ts';
import { createOverloadGate } from '../../src/smtp/overload.ts';

test('counts connections per client: an IPv4 address, or the /64 of an IPv6 one', () => {
  const counter = new ConnectionCounter(100, 2);
  const a = counter.admitClient('192.0.2.1');
  assert.ok(a && counter.admitClient('::ffff:192.0.2.1'), 'the IPv4-mapped form is the same client');
  assert.equal(counter.admitClient('192.0.2.1'), null);
  assert.ok(counter.admitClient('192.0.2.2'));
  a();
  a();
  assert.ok(counter.admitClient('192.0.2.1'), 'a release makes room, once');
  assert.equal(counter.admitClient('192.0.2.1'), null);
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), clientKey('2001:db8:1:2:bbbb::9'));
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
});

test('refuses a socket over the total, and counts a released one out', () => {
  const counter = new ConnectionCounter(2, 10);
  const first = counter.admitSocket()!;
  assert.ok(counter.admitSocket());
  assert.equal(counter.admitSocket(), null);
  first();
  assert.ok(counter.admitSocket());
  assert.equal(counter.total, 2);
});

test('trusts PROXY headers only from the configured ranges, and names a bad entry', () => {
  const trusted = parseTrustedProxies('10.0.0.0/8, 192.168.1.7 fd00::/8');
  assert.ok(trusted.has('10.200.3.4'));
  assert.ok(trusted.has('::ffff:10.1.1.1'));
  assert.ok(trusted.has('192.168.1.7'));
  assert.ok(!trusted.has('192.168.1.8'));
  assert.ok(trusted.has('fd12::1'));
  assert.ok(!trusted.has('2001:db8::1'));
  assert.equal(parseTrustedProxies('').ranges.length, 0);
  for (const bad of ['10.0.0.0/33', 'nonsense', '10.0.0.0/', '10.0.0.0/8/8', 'fd00::/129']) {
    assert.throws(() => parseTrustedProxies(bad), new RegExp(bad.replace(/[./]/g, '\\$&')));
  }
});

test('gives DATA its timeout plus a second per min-rate bytes, and cuts a slower client off', async () => {
  let clock = 0;
  let expired = false;
  const budget = createDataBudget({ timeoutMs: 50, minRate: 1000, onExpired: () => (expired = true), now: () => clock });
  // A fast client: 1000 bytes each 20 ms keeps moving the deadline out.
  for (let i = 0; i < 10; i++) {
    clock += 20;
    budget.received(1000);
  }
  clock = 200;
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(expired, false, 'a client above the minimum rate is not cut off');
  budget.stop();

  clock = 0;
  const slow = createDataBudget({ timeoutMs: 30, minRate: 1000, onExpired: () => (expired = true), now: () => clock });
  clock = 100;
  slow.received(1);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(expired, true, 'one byte in 100 ms is cut off after the timeout');
});

test('holds back new transactions past the backlog or the Redis memory limit, sampling at most once per period', async () => {
  let calls = 0;
  let sample = { backlog: 10, usedMemory: 50, maxMemory: 100 };
  let clock = 0;
  const gate = createOverloadGate({ sample: async () => (calls++, sample), maxBacklog: 100, memoryLimitPercent: 90, maxAgeMs: 1000, now: () => clock });
  assert.deepEqual(await Promise.all([gate.check(), gate.check(), gate.check()]), ['ok', 'ok', 'ok']);
  assert.equal(calls, 1, 'concurrent checks share one sample');
  sample = { backlog: 100, usedMemory: 0, maxMemory: 0 };
  assert.equal(await gate.check(), 'ok', 'a sample is used for its whole period');
  clock = 1000;
  assert.equal(await gate.check(), 'backlog');
  sample = { backlog: 0, usedMemory: 91, maxMemory: 100 };
  clock = 2000;
  assert.equal(await gate.check(), 'memory');
  sample = { backlog: 0, usedMemory: 10 ** 12, maxMemory: 0 };
  clock = 3000;
  assert.equal(await gate.check(), 'ok', 'no maxmemory: memory is not judged');
});

test('lets transactions through when the load cannot be sampled', async () => {
  const errors: string[] = [];
  const gate = createOverloadGate({ sample: () => Promise.reject(new Error('Redis is away')), maxBacklog: 1, memoryLimitPercent: 90, onSampleError: (e) => errors.push(e.message) });
  assert.equal(await gate.check(), 'ok');
  assert.deepEqual(errors, ['Redis is away']);
});
