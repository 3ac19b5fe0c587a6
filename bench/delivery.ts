// Deliveries per second that one worker process sustains to an endpoint that
// answers at once. Usage: node bench/delivery.ts [jobs] [concurrency...]
// Jobs are queued first, then one `mxpost worker` process drains them; the
// rate is measured from the first to the last completed delivery.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisConnection } from '../src/queue/connection.ts';
import { createDeliveryQueue, type DeliveryJob } from '../src/queue/deliveries.ts';
import { startRedisServer } from '../src/queue/redis-server.ts';
import { benchPayload } from './support/payload.ts';

const jobs = Number(process.argv[2] ?? 20_000);
const concurrencies = process.argv.slice(3).map(Number);
if (concurrencies.length === 0) concurrencies.push(16, 64);

const dir = mkdtempSync(join(tmpdir(), 'mxpost-bench-'));
const redis = await startRedisServer({ dir });
const endpoint = spawn(process.execPath, [new URL('./endpoint.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
const [portLine] = await once(endpoint.stdout!, 'data');
const port = Number(String(portLine).trim());
const routes = join(dir, 'routes.yaml');
writeFileSync(routes, `domains:\n  bench.test:\n    url: http://127.0.0.1:${port}/inbound\n    recipients: ["*"]\n`);

const text = 'Hello,\n\nThis is a benchmark message of a typical size for a reply to a support ticket.\n'.repeat(20);
const results: string[] = [];
for (const concurrency of concurrencies) {
  const prefix = `bench${concurrency}`;
  const connection = createRedisConnection(redis.url, 'producer', 'bench');
  const queue = createDeliveryQueue({ connection, prefix, retentionMs: 3600_000, onError: () => {} });
  for (let start = 0; start < jobs; start += 1000) {
    const batch: DeliveryJob[] = [];
    for (let i = start; i < Math.min(jobs, start + 1000); i++) {
      const deliveryId = `BENCH${String(i).padStart(8, '0')}-1`;
      batch.push({
        deliveryId, queueId: deliveryId.slice(0, -2), domain: 'bench.test', address: null, url: `http://127.0.0.1:${port}/inbound`, windowStartedAt: Date.now(),
        payload: benchPayload(deliveryId, `bench ${i}`, text),
      });
    }
    await queue.enqueue(batch, 30_000);
  }
  const worker: ChildProcess = spawn(new URL('../bin/mxpost', import.meta.url).pathname, ['worker'], {
    env: { ...process.env, MXPOST_REDIS_URL: redis.url, MXPOST_REDIS_PREFIX: prefix, MXPOST_ROUTES: routes, MXPOST_HTTP_PORT: '0', MXPOST_LOG_LEVEL: 'warn', MXPOST_DELIVERY_CONCURRENCY: String(concurrency) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let first = 0;
  let done = 0;
  while (done < jobs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    done = (await queue.queue.getJobCounts('completed')).completed ?? 0;
    if (done > 0 && first === 0) first = performance.now();
  }
  const seconds = (performance.now() - first) / 1000;
  worker.kill('SIGTERM');
  await once(worker, 'exit');
  await queue.close();
  connection.disconnect();
  results.push(`| ${concurrency} | ${jobs} | ${seconds.toFixed(2)} | ${Math.round(jobs / seconds)} |`);
  process.stderr.write(`concurrency ${concurrency}: ${Math.round(jobs / seconds)} deliveries/s\n`);
}
endpoint.kill('SIGTERM');
await once(endpoint, 'exit');
await redis.stop();

process.stdout.write(
  [
    `one worker process, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    '',
    '| concurrency | deliveries | seconds | deliveries/s |',
    '| --- | --- | --- | --- |',
    ...results,
    '',
  ].join('\n'),
);
