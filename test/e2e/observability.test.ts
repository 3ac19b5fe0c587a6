import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDnsServer } from '../support/dns-server.ts';
import { spawnMxpost } from '../support/process.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { SmtpDialog, sendMail, testMessage } from '../support/smtp-client.ts';
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

  test('counts SMTP connections, transactions by reply class, refusals by reason, bytes and auth verdicts', async () => {
    const endpoint = await startEndpoint();
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: `domains:\n  m.test:\n    url: ${endpoint.url()}\n    recipients: [known]\n` });
    try {
      const ok = await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['known@m.test', 'unknown@m.test', 'x@elsewhere.test'], message: testMessage() });
      assert.equal(ok.data?.code, 250);
      const text = await (await fetch(`http://127.0.0.1:${mxpost.http.port}/metrics`)).text();
      const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.equal(value('mxpost_smtp_connections_total'), 1);
      assert.equal(value('mxpost_smtp_transactions_total{class="2xx"}'), 1);
      assert.equal(value('mxpost_messages_accepted_total{domain="m.test"}'), 1);
      assert.equal(value('mxpost_messages_rejected_total{reason="unknown-recipient"}'), 1);
      assert.equal(value('mxpost_messages_rejected_total{reason="unknown-domain"}'), 1);
      assert.ok(value('mxpost_smtp_received_bytes_total') > 100);
      // The test DNS server knows no sender domain: SPF and DMARC read none.
      assert.equal(value('mxpost_auth_verdicts_total{method="spf",result="none"}'), 1);
      assert.equal(value('mxpost_auth_verdicts_total{method="dmarc",result="none"}'), 1);
    } finally {
      await mxpost.close();
      await endpoint.close();
    }
  });

  test('is ready with Redis, routes and SMTP listening, and not ready once draining', async () => {
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: 'domains:\n  m.test:\n    url: http://127.0.0.1:9/x\n    recipients: ["*"]\n' });
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${mxpost.http.port}/readyz`);
      return { status: res.status, body: (await res.json()) as { ready: boolean; checks: Record<string, boolean> } };
    };
    try {
      // The worker reports running once its first fetch from Redis is under way.
      let ready = await readyz();
      for (let i = 0; i < 100 && ready.status !== 200; i++) ready = (await new Promise((r) => setTimeout(r, 50)), await readyz());
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      assert.deepEqual(Object.keys(ready.body.checks).sort(), ['draining', 'redis', 'routes', 'smtp', 'worker']);
    } finally {
      // A session in the middle of a transaction holds the drain open, so that the
      // probe below is answered while draining, not after the port has closed.
      const { dialog } = await SmtpDialog.open(mxpost.smtpPort);
      await dialog.command('EHLO client.sender.test');
      await dialog.command('MAIL FROM:<a@sender.test>');
      const closing = mxpost.close();
      const draining = await readyz();
      await dialog.quit();
      await closing;
      assert.equal(draining.status, 503);
      assert.equal(draining.body.checks.draining, false);
    }
  });

  test('logs one line per transaction with the client, envelope, size, auth summary, reply code and ids', async () => {
    const endpoint = await startEndpoint();
    const routes = join(mkdtempSync(join(tmpdir(), 'mxpost-log-')), 'routes.yaml');
    writeFileSync(routes, `domains:\n  m.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`);
    const dns = await startDnsServer();
    const child = await spawnMxpost('serve', { MXPOST_REDIS_URL: redis.url, MXPOST_REDIS_PREFIX: `log-${Date.now()}`, MXPOST_ROUTES: routes, MXPOST_DNS_SERVERS: dns.address, SECRET_FOR_LOG: 'x' });
    try {
      await sendMail(child.smtpPort!, { from: 'a@sender.test', to: ['one@m.test'], message: testMessage() });
      await endpoint.waitFor(1);
      await waitUntil(() => child.output().includes('"action":"delivery-attempt"'));
      const lines = child.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      const transaction = lines.find((l) => l.action === 'transaction');
      assert.equal(transaction.client, '127.0.0.1');
      assert.equal(transaction.helo, 'client.sender.test');
      assert.equal(transaction.mailFrom, 'a@sender.test');
      assert.deepEqual(transaction.rcptTo, ['one@m.test']);
      assert.ok(transaction.size > 0);
      assert.equal(transaction.code, 250);
      assert.match(transaction.auth, /^spf=none dkim=none dmarc=none arc=none$/);
      assert.deepEqual(transaction.deliveryIds, [`${transaction.queueId}-1`]);
      const attempt = lines.find((l) => l.action === 'delivery-attempt');
      assert.equal(attempt.deliveryId, transaction.deliveryIds[0]);
      assert.equal(attempt.outcome, 'delivered');
    } finally {
      await child.stop();
      await dns.stop();
      await endpoint.close();
    }
  });

  test('traces the SMTP transaction and each delivery attempt as one trace, and sends traceparent with the webhook', async () => {
    const spans: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const json = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: typeof spans }[] }[] };
        for (const r of json.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const { port } = collector.address() as AddressInfo;
    const endpoint = await startEndpoint([503]);
    const mxpost = await startMxpost({
      redisUrl: redis.url,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '100' },
      routes: `domains:\n  m.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`,
    });
    try {
      await sendMail(mxpost.smtpPort, { from: 'a@sender.test', to: ['one@m.test'], message: testMessage() });
      const requests = await endpoint.waitFor(2);
      await waitUntil(() => spans.filter((s) => s.name === 'webhook delivery attempt').length >= 2 && spans.some((s) => s.name === 'smtp transaction'));
      const transaction = spans.find((s) => s.name === 'smtp transaction')!;
      const attempts = spans.filter((s) => s.name === 'webhook delivery attempt');
      for (const attempt of attempts) {
        assert.equal(attempt.traceId, transaction.traceId, 'one trace');
        assert.equal(attempt.parentSpanId, transaction.spanId);
      }
      for (const request of requests) {
        const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(request.headers.traceparent))!;
        assert.equal(traceId, transaction.traceId);
        assert.ok(attempts.some((a) => a.spanId === spanId), 'the header names the attempt span');
      }
    } finally {
      await mxpost.close();
      await endpoint.close();
      collector.close();
      collector.closeAllConnections();
    }
  });
});
