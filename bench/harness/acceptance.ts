// SMTP acceptance: every system under the same smtp-source load, run after run.
// All systems stay up through a cell and take turns, in an order that rotates
// from run to run, so that whatever else the machine does falls on all of them
// alike. Between turns an mxpost system's queue is drained (serve, receiver +
// worker) or emptied (receiver alone), so no system's leftovers load another's turn.
import { smtpSource, summarize, type Connections, type LoadRun } from './load.ts';
import type { MessageFile } from './mail.ts';
import { cpuTimeMs, peakRss, resetPeakRss } from './processes.ts';
import type { QueueWatch } from './queue-watch.ts';
import type { PostfixTools } from './tools.ts';
import type { Running, SystemId } from './systems.ts';

export interface Plan {
  readonly runs: number;
  /** How long one measured run should last; the message count is sized from the warm-up's rate. */
  readonly targetSeconds: number;
  readonly warmupMessages: (sessions: number) => number;
  readonly maxMessages: number;
}

export interface CellResult {
  readonly system: SystemId;
  readonly size: string;
  readonly sessions: number;
  readonly connections: Connections;
  readonly runs: readonly LoadRun[];
  readonly rate: ReturnType<typeof summarize> | null;
  readonly error: string | null;
  /** Peak RSS of each process during the cell, by process name. */
  readonly peakRss: Readonly<Record<string, number | null>>;
  /**
   * CPU time per message of the system's processes (their children included),
   * median of the runs; for mxpost, also of redis-server. Unlike the rate, other
   * work on the machine barely moves it.
   */
  readonly cpuMsPerMessage: number | null;
  readonly redisCpuMsPerMessage: number | null;
  /** Redis memory per queued message (receiver alone: nothing consumes the queue). */
  readonly redisBytesPerMessage: number | null;
}

const say = (text: string) => process.stderr.write(`bench: ${text}\n`);

export async function measureCell(options: {
  systems: ReadonlyMap<SystemId, Running>;
  message: MessageFile;
  sessions: number;
  connections: Connections;
  plan: Plan;
  postfix: PostfixTools;
  watch: QueueWatch;
  redisPid: number | null;
}): Promise<CellResult[]> {
  const { systems, message, sessions, connections, plan, postfix, watch } = options;
  const ids = [...systems.keys()];
  const state = new Map(
    ids.map((id) => [id, { runs: [] as LoadRun[], messages: 0, error: null as string | null, redis: [] as number[], cpu: [] as number[], redisCpu: [] as number[] }]),
  );
  const cpu = (running: Running) => running.processes.reduce((sum, child) => sum + (cpuTimeMs(child.pid) ?? NaN), 0);
  const redisCpu = () => (options.redisPid === null ? NaN : (cpuTimeMs(options.redisPid) ?? NaN));

  const settle = async (running: Running) => {
    if (!running.prefix) return;
    if (running.delivers) {
      if (!(await watch.drain(running.prefix, 120_000))) say(`${running.prefix}: backlog not drained after 120 s`);
      await watch.cleanCompleted(running.prefix);
    } else await watch.clear(running.prefix);
  };

  const load = (id: SystemId, messages: number) =>
    smtpSource(postfix, { port: systems.get(id)!.port, sessions, connections, messages, message, timeoutMs: Math.max(60_000, messages * 100) });

  for (const id of ids) for (const child of systems.get(id)!.processes) resetPeakRss(child.pid);

  // Warm-up: JIT, connection pools and DNS caches, and the rate that sizes the measured runs.
  for (const id of ids) {
    const s = state.get(id)!;
    try {
      const warm = await load(id, plan.warmupMessages(sessions));
      s.messages = Math.round(Math.min(plan.maxMessages, Math.max(sessions * 4, 20, warm.rate * plan.targetSeconds)));
    } catch (err) {
      s.error = (err as Error).message;
    }
    await settle(systems.get(id)!);
  }

  for (let run = 0; run < plan.runs; run++) {
    const order = ids.map((_, i) => ids[(i + run) % ids.length]!);
    for (const id of order) {
      const s = state.get(id)!;
      if (s.error) continue;
      const running = systems.get(id)!;
      const before = running.prefix && !running.delivers ? await watch.usedMemory() : 0;
      const [cpuBefore, redisBefore] = [cpu(running), redisCpu()];
      try {
        s.runs.push(await load(id, s.messages));
        // A worker's share of the work is done only when the backlog is: count it too.
        if (running.delivers) await watch.drain(running.prefix!, 120_000);
        s.cpu.push((cpu(running) - cpuBefore) / s.messages);
        if (running.prefix) s.redisCpu.push((redisCpu() - redisBefore) / s.messages);
      } catch (err) {
        s.error = (err as Error).message;
      }
      if (running.prefix && !running.delivers && !s.error) {
        const queued = await watch.stored(running.prefix);
        if (queued > 0) s.redis.push(((await watch.usedMemory()) - before) / queued);
      }
      await settle(running);
    }
  }

  return ids.map((id) => {
    const s = state.get(id)!;
    const running = systems.get(id)!;
    const median = (xs: number[]) => {
      const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
      return sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : null;
    };
    if (s.error) say(`${id} ${message.label} × ${sessions} (${connections} connections): ${s.error}`);
    return {
      system: id,
      size: message.label,
      sessions,
      connections,
      runs: s.runs,
      rate: s.runs.length > 0 ? summarize(s.runs) : null,
      error: s.error,
      peakRss: Object.fromEntries(running.processes.map((child) => [child.name, peakRss(child.pid)])),
      cpuMsPerMessage: median(s.cpu),
      redisCpuMsPerMessage: median(s.redisCpu),
      redisBytesPerMessage: median(s.redis),
    };
  });
}
