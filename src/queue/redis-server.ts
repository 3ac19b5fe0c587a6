import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { once } from 'node:events';

/**
 * A private redis-server child process, for `mxpost dev` and the test suite:
 * on a free loopback port, with its data in `dir`. Stopping it waits for exit.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port, as after a crash or an outage. */
  start(): Promise<void>;
}

export async function startRedisServer(options: { dir: string; persist?: boolean; port?: number }): Promise<RedisServer> {
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    if (child) return;
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', options.dir,
      '--save', options.persist ? '60 1' : '',
      '--appendonly', options.persist ? 'yes' : 'no',
      // A persisted server keeps what mxpost acknowledged even through a crash.
      '--appendfsync', options.persist ? 'always' : 'everysec',
      // BullMQ requires that Redis never evicts its keys.
      '--maxmemory-policy', 'noeviction',
      '--loglevel', 'warning',
    ];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const failed = once(proc, 'exit').then(([code]) => {
      throw new Error(`redis-server exited (${String(code)}) before it was ready: ${output.trim()}`);
    });
    failed.catch(() => {});
    const spawnError = once(proc, 'error').then(([err]) => {
      throw new Error(`cannot start redis-server: ${(err as Error).message}`);
    });
    spawnError.catch(() => {});
    await Promise.race([waitForPort(port), failed, spawnError]);
    child = proc;
    proc.once('exit', () => {
      if (child === proc) child = null;
    });
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null) {
      child = null;
      return;
    }
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    child = null;
  };

  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}

/** A port that was free a moment ago; the caller retries if another process takes it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const socket = createConnection({ port, host: '127.0.0.1' });
      await once(socket, 'connect');
      socket.destroy();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
