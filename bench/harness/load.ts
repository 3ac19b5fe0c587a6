// Acceptance load: Postfix's smtp-source, `sessions` connections at a time,
// timed from its start to its exit. Two ways to use a connection:
// - 'new': one message per connection, as most MTAs deliver to an MX. Here
//   smtp-server's fixed 100 ms pause before the greeting (its early-talker
//   check) bounds each session to under 10 messages/s, whatever the CPU.
// - 'kept' (smtp-source -d): each connection sends message after message, so
//   the rate is what the CPU allows; the reference figures are of this kind. smtp-source stops at the first reply that is not 2xx/3xx, so a run that
// exits non-zero did not have every message accepted and counts as failed.
import { spawn } from 'node:child_process';
import { HELO, MAIL_FROM, RCPT_TO, type MessageFile } from './mail.ts';
import type { PostfixTools } from './tools.ts';

export type Connections = 'new' | 'kept';

export interface LoadRun {
  readonly messages: number;
  readonly seconds: number;
  readonly rate: number;
}

export class LoadError extends Error {
  override readonly name = 'LoadError';
}

export async function smtpSource(tools: PostfixTools, options: { port: number; sessions: number; connections: Connections; messages: number; message: MessageFile; timeoutMs: number }): Promise<LoadRun> {
  const args = [
    ...(options.connections === 'kept' ? ['-d'] : []),
    '-s', String(options.sessions),
    '-m', String(options.messages),
    '-F', options.message.path,
    '-f', MAIL_FROM,
    '-t', RCPT_TO,
    '-M', HELO,
    `127.0.0.1:${options.port}`,
  ];
  const start = process.hrtime.bigint();
  const child = spawn(tools.smtpSource, args, { env: tools.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Every load is bounded in time: a stuck system fails the run instead of the bench.
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) {
    const why = code === null ? `timed out after ${options.timeoutMs} ms` : stderr.trim().split('\n').slice(-1)[0] ?? `exit ${code}`;
    throw new LoadError(why.replace(/^.*smtp-source: /, ''));
  }
  return { messages: options.messages, seconds, rate: options.messages / seconds };
}

/** Median, min and max of the rates of several runs. */
export function summarize(runs: readonly LoadRun[]): { median: number; min: number; max: number; runs: number } {
  const rates = runs.map((r) => r.rate).sort((a, b) => a - b);
  const mid = Math.floor(rates.length / 2);
  const median = rates.length % 2 === 1 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2;
  return { median, min: rates[0]!, max: rates[rates.length - 1]!, runs: rates.length };
}
