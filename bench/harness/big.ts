// Memory under large mail: `count` messages of about 20 MB arriving at once
// (one session each), through acceptance and delivery, and the peak RSS of
// each mxpost process meanwhile.
import type { TimedEndpoint } from './endpoint.ts';
import { smtpSource } from './load.ts';
import type { MessageFile } from './mail.ts';
import { peakRss, resetPeakRss } from './processes.ts';
import type { QueueWatch } from './queue-watch.ts';
import type { PostfixTools } from './tools.ts';
import type { Running, SystemId } from './systems.ts';

export interface BigResult {
  readonly system: SystemId;
  readonly count: number;
  readonly acceptSeconds: number | null;
  readonly delivered: number;
  readonly error: string | null;
  readonly peakRss: Readonly<Record<string, number | null>>;
}

export async function measureBigMessages(options: {
  id: SystemId;
  running: Running;
  message: MessageFile;
  count: number;
  postfix: PostfixTools;
  watch: QueueWatch;
  endpoint: TimedEndpoint;
}): Promise<BigResult> {
  const { running, watch, endpoint } = options;
  await watch.drain(running.prefix!, 120_000);
  await endpoint.reset();
  for (const child of running.processes) resetPeakRss(child.pid);
  let acceptSeconds: number | null = null;
  let error: string | null = null;
  try {
    const run = await smtpSource(options.postfix, { port: running.port, sessions: options.count, connections: 'new', messages: options.count, message: options.message, timeoutMs: 300_000 });
    acceptSeconds = run.seconds;
    if (!(await watch.drain(running.prefix!, 180_000))) error = 'backlog not drained within 180 s';
  } catch (err) {
    error = (err as Error).message;
  }
  const peaks = Object.fromEntries(running.processes.map((child) => [child.name, peakRss(child.pid)]));
  const delivered = (await endpoint.arrivals()).arrivals.size;
  await watch.cleanCompleted(running.prefix!);
  return { system: options.id, count: options.count, acceptSeconds, delivered, error, peakRss: peaks };
}
