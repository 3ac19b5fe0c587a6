import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createParseSlots } from '../../src/message/parse-slots.ts';

/** A task that finishes when told to, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { task: async () => (log.push(name), await done, name), finish };
}

test('runs at most the limit of tasks at once, the others in the order they came', async () => {
  const slots = createParseSlots(2);
  const log: string[] = [];
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => gate(log, name));
  const results = [a, b, c, d].map((g) => slots(g!.task));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['a', 'b']);
  b!.finish();
  await results[1];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['a', 'b', 'c']);
  a!.finish();
  c!.finish();
  d!.finish();
  assert.deepEqual(await Promise.all(results), ['a', 'b', 'c', 'd']);
});

test('does not start a task whose client was answered while it waited, and passes its turn on', async () => {
  const slots = createParseSlots(1);
  const log: string[] = [];
  const first = gate(log, 'first');
  const abandoned = new AbortController();
  const running = slots(first.task);
  const skipped = slots(async () => (log.push('skipped'), 'skipped'), abandoned.signal);
  const next = slots(async () => (log.push('next'), 'next'));
  abandoned.abort(new Error('answered 451'));
  first.finish();
  await running;
  await assert.rejects(skipped, /answered 451/);
  assert.equal(await next, 'next');
  assert.deepEqual(log, ['first', 'next']);
});

test('frees the slot of a task that fails', async () => {
  const slots = createParseSlots(1);
  await assert.rejects(slots(async () => Promise.reject(new Error('broken'))), /broken/);
  assert.equal(await slots(async () => 'after'), 'after');
});
