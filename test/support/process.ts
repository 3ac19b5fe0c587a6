import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const BIN = new URL('../../bin/mxpost', import.meta.url).pathname;

export interface MxpostProcess {
  readonly child: ChildProcess;
  readonly smtpPort: number | null;
  readonly httpPort: number;
  /** Everything it wrote on stdout so far (JSON log lines). */
  output(): string;
  /** SIGTERM, then waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `mxpost <verb>` as its own process, on free ports; resolves once it logged
 * that it started, with the ports it listens on.
 */
export async function spawnMxpost(verb: string, env: Record<string, string>): Promise<MxpostProcess> {
  const child = spawn(BIN, [verb], {
    env: { ...process.env, MXPOST_SMTP_HOST: '127.0.0.1', MXPOST_SMTP_PORT: '0', MXPOST_HTTP_HOST: '127.0.0.1', MXPOST_HTTP_PORT: '0', MXPOST_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const started = await new Promise<{ smtp: string | null; http: string }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { action?: string; smtp: string | null; http: string };
        if (entry.action === 'start') resolve(entry);
      }
    });
    child.once('exit', (code) => reject(new Error(`mxpost ${verb} exited (${code}) before it started: ${out}`)));
  });
  const port = (address: string) => Number(address.split(':').pop());
  return {
    child,
    smtpPort: started.smtp ? port(started.smtp) : null,
    httpPort: port(started.http),
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** One run of a command-line verb: `mxpost <args…>`, to its exit, with what it printed. */
export function runMxpost(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}
