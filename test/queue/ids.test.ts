import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliveryId, newQueueId } from '../../src/queue/ids.ts';

test('queue ids are 26 Crockford base32 characters that sort by time', () => {
  const earlier = newQueueId(Date.UTC(2026, 0, 1));
  const later = newQueueId(Date.UTC(2026, 0, 1) + 1);
  assert.match(earlier, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.ok(earlier < later);
  assert.notEqual(newQueueId(1000), newQueueId(1000), 'random part differs within one millisecond');
});

test('delivery ids name their message and never contain ":" (BullMQ refuses it in job ids)', () => {
  assert.equal(deliveryId('01ABC', 0), '01ABC-1');
  assert.ok(!deliveryId(newQueueId(), 3).includes(':'));
});
