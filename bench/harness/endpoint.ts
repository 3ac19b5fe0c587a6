// The parent's side of servers/timed-endpoint.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface TimedEndpoint {
  readonly port: number;
  readonly pid: number;
  /** Every delivery id seen since the last reset, with when its first request arrived (hrtime ns). */
  arrivals(): Promise<{ requests: number; arrivals: Map<string, bigint> }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTimedEndpoint(): Promise<TimedEndpoint> {
  const child: ChildProcess = fork(new URL('../servers/timed-endpoint.ts', import.meta.url).pathname, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  const ask = async <T>(cmd: string, key: string): Promise<T> => {
    const reply = new Promise<T>((resolve) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
    });
    child.send({ cmd });
    return reply;
  };
  return {
    port: ready.port,
    pid: child.pid!,
    async arrivals() {
      const report = await ask<{ requests: number; arrivals: [string, string][] }>('report', 'arrivals');
      return { requests: report.requests, arrivals: new Map(report.arrivals.map(([id, at]) => [id, BigInt(at)])) };
    },
    async reset() {
      await ask('reset', 'reset');
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}
