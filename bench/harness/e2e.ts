// End to end: at a steady rate (half of the system's measured maximum), the
// time from the 250 reply to the endpoint receiving the POST, the deliveries
// per second the endpoint sees, and whether the backlog in Redis grows.
import type { TimedEndpoint } from './endpoint.ts';
import type { MessageFile } from './mail.ts';
import { dataBytes, sendPaced } from './paced.ts';
import { peakRss, resetPeakRss } from './processes.ts';
import type { QueueWatch } from './queue-watch.ts';
import type { Running, SystemId } from './systems.ts';

export interface EndToEnd {
  readonly system: SystemId;
  readonly offeredRate: number;
  readonly seconds: number;
  readonly accepted: number;
  readonly refused: number;
  /** The replies that were not 250, by code (0: the connection ended without one). */
  readonly refusals: Readonly<Record<string, number>>;
  /** Starts the client skipped because too many sessions were still open. */
  readonly skipped: number;
  readonly delivered: number;
  /** Deliveries the endpoint saw per second, from the first to the last. */
  readonly deliveredRate: number;
  /** 250 → POST, milliseconds. */
  readonly latency: { p50: number; p95: number; p99: number; max: number } | null;
  readonly backlog: { max: number; end: number; firstQuarter: number; lastQuarter: number; grows: boolean };
  readonly peakRss: Readonly<Record<string, number | null>>;
}

export async function measureEndToEnd(options: {
  id: SystemId;
  running: Running;
  message: MessageFile;
  rate: number;
  seconds: number;
  endpoint: TimedEndpoint;
  watch: QueueWatch;
}): Promise<EndToEnd> {
  const { running, watch, endpoint } = options;
  const prefix = running.prefix!;
  await watch.drain(prefix, 120_000);
  await endpoint.reset();
  for (const child of running.processes) resetPeakRss(child.pid);

  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await watch.backlog(prefix));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const result = await sendPaced({ port: running.port, data: dataBytes(options.message.raw), rate: options.rate, seconds: options.seconds });
  sampling = false;
  await sampler;

  const accepted = result.sent.filter((s) => s.queueId !== null);
  // Wait (bounded) for every accepted message's first delivery.
  const deadline = Date.now() + 120_000;
  let arrivals = (await endpoint.arrivals()).arrivals;
  while (accepted.some((s) => !arrivals.has(`${s.queueId}-1`)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    arrivals = (await endpoint.arrivals()).arrivals;
  }
  const latencies: number[] = [];
  const times: bigint[] = [];
  for (const s of accepted) {
    const at = arrivals.get(`${s.queueId}-1`);
    if (at === undefined) continue;
    latencies.push(Number(at - s.repliedAt) / 1e6);
    times.push(at);
  }
  latencies.sort((a, b) => a - b);
  times.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const span = times.length > 1 ? Number(times[times.length - 1]! - times[0]!) / 1e9 : 0;
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const firstQuarter = mean(samples.slice(0, quarter));
  const lastQuarter = mean(samples.slice(-quarter));

  return {
    system: options.id,
    offeredRate: options.rate,
    seconds: result.seconds,
    accepted: accepted.length,
    refused: result.sent.length - accepted.length,
    refusals: result.sent.filter((s) => s.queueId === null).reduce<Record<string, number>>((counts, s) => ({ ...counts, [s.code]: (counts[s.code] ?? 0) + 1 }), {}),
    skipped: result.skipped,
    delivered: latencies.length,
    deliveredRate: span > 0 ? (times.length - 1) / span : 0,
    latency: latencies.length > 0 ? { p50: pct(50), p95: pct(95), p99: pct(99), max: latencies[latencies.length - 1]! } : null,
    backlog: {
      max: Math.max(0, ...samples),
      end: samples[samples.length - 1] ?? 0,
      firstQuarter,
      lastQuarter,
      // A backlog that keeps up stays within about a second's worth of messages.
      grows: lastQuarter > firstQuarter + Math.max(5, options.rate * 0.5),
    },
    peakRss: Object.fromEntries(running.processes.map((child) => [child.name, peakRss(child.pid)])),
  };
}
