import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import type { Metrics } from '../observability/metrics.ts';
import { QUEUE_STATES } from '../queue/deliveries.ts';


/**
 * `GET /metrics` in Prometheus text format. Queue depth is read from Redis at
 * each scrape (cheap: one counting script), never more often than scrapes come.
 */
export function createMetricsHandler(metrics: Metrics, queue: Queue) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if ((req.url ?? '').split('?')[0] !== '/metrics' || req.method !== 'GET') return false;
    try {
      const counts = await Promise.race([
        queue.getJobCounts(...QUEUE_STATES),
        new Promise<null>((resolve) => setTimeout(resolve, 1000, null).unref()),
      ]);
      // A Redis that does not answer leaves the gauge unset rather than stale.
      if (counts) for (const state of QUEUE_STATES) metrics.queueJobs.set({ state: state === 'failed' ? 'dead_letter' : state }, counts[state] ?? 0);
      else metrics.queueJobs.reset();
    } catch {
      metrics.queueJobs.reset();
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    return true;
  };
}
