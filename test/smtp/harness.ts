import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/queue/redis-server.ts';
import type { Reply } from '../support/smtp-client.ts';

/**
 * Helpers for the receiver's hardening tests (test/e2e/hardening-*.test.ts):
 * a byte-level SMTP client, certificates made with openssl, and redis-server
 * with the persistence settings a durability test needs.
 */

/** A raw SMTP client: writes bytes as given, parses every reply, and sees the close. */
export class Wire {
  readonly socket: Socket;
  readonly replies: Reply[] = [];
  /** Everything received, as latin1 text. */
  received = '';
  readonly closed: Promise<void>;
  #buffer = '';
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      this.#buffer += chunk.toString('latin1');
      let end: number;
      while ((end = this.#findReplyEnd()) >= 0) {
        const lines = this.#buffer.slice(0, end).split('\r\n');
        this.#buffer = this.#buffer.slice(end + 2);
        this.replies.push({ code: Number(lines[0]!.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') });
      }
      this.#wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.#wake(true));
  }

  #findReplyEnd(): number {
    let from = 0;
    for (;;) {
      const end = this.#buffer.indexOf('\r\n', from);
      if (end < 0) return -1;
      const line = this.#buffer.slice(from, end);
      if (/^\d{3}( |$)/.test(line)) return end;
      from = end + 2;
    }
  }

  #wake(all = false) {
    for (const waiter of [...this.#waiters]) {
      if (all || this.replies.length >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  static async open(port: number, options: { localAddress?: string; preface?: Buffer; greeting?: boolean } = {}): Promise<Wire> {
    const socket = connect({ port, host: '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    await once(socket, 'connect');
    const wire = new Wire(socket);
    if (options.preface) socket.write(options.preface);
    if (options.greeting !== false) await wire.waitFor(1);
    return wire;
  }

  /** Resolves once `count` replies arrived in total, or the connection closed. */
  waitFor(count: number, timeoutMs = 10_000): Promise<Reply[]> {
    if (this.replies.length >= count || this.socket.destroyed) return Promise.resolve(this.replies);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.replies.length} of ${count} replies in ${timeoutMs} ms: ${JSON.stringify(this.received)}`)), timeoutMs);
      this.#waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(this.replies)) });
    });
  }

  /** Writes `data` (CRLF added to a string) and returns the next reply; null when the connection closed first. */
  async send(data: string | Buffer, timeoutMs?: number): Promise<Reply | null> {
    const count = this.replies.length + 1;
    this.socket.write(typeof data === 'string' ? `${data}\r\n` : data);
    await this.waitFor(count, timeoutMs);
    return this.replies[count - 1] ?? null;
  }

  /** The last reply so far. */
  get last(): Reply | undefined {
    return this.replies.at(-1);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A self-signed certificate for `name`, made with openssl, valid for a day. */
export function makeCertificate(dir: string, name: string): { certPath: string; keyPath: string } {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', keyPath, '-out', certPath],
    { stdio: 'ignore' },
  );
  return { certPath, keyPath };
}

/** redis-server with exactly the arguments a test needs (noeviction always), on a free port. */
export async function startRedis(args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'mxpost-hardening-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', ...args], { stdio: 'ignore' });
    child = proc;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const socket = connect({ port, host: '127.0.0.1' });
        await once(socket, 'connect');
        socket.destroy();
        return;
      } catch {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    start,
    kill,
    async dispose() {
      await kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
