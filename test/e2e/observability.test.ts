import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';

describe('observability', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.dispose();
  });

  test('exposes Prometheus metrics with bounded labels that follow the deliveries', async () => {
    const endpoint = await startEndpoint([503]);
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: `domains:\n  m.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n` });
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${mxpost.http.port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      return res.text();
    };
    try {
      const result = await sendMail(mxpost.smtpPort, { from: 'someone@sender.test', to: ['person+tag@m.test'], message: testMessage() });
      assert.equal(result.data?.code, 250);
      await endpoint.waitFor(2);
      // The attempt is counted, and the job completed, right after the endpoint answers it.
      let text = await scrape();
      for (let i = 0; i < 50 && !text.includes('mxpost_queue_jobs{state="completed"} 1'); i++) text = await scrape();
      const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.equal(value('mxpost_delivery_attempts_total{domain="m.test",outcome="retry"}'), 1);
      assert.equal(value('mxpost_delivery_attempts_total{domain="m.test",outcome="delivered"}'), 1);
      assert.equal(value('mxpost_delivery_latency_seconds_count{domain="m.test"}'), 1);
      assert.equal(value('mxpost_queue_jobs{state="completed"}'), 1);
      assert.equal(value('mxpost_queue_jobs{state="dead_letter"}'), 0);
      assert.match(text, /^process_cpu_seconds_total /m, 'default process metrics');
      assert.doesNotMatch(text, /sender\.test|person|127\.0\.0\.1:\d+/, 'no address or URL in any label');
    } finally {
      await mxpost.close();
      await endpoint.close();
    }
  });
});
