// The bench's private redis-server, set up for a durable enqueue: every write in
// the append-only file and fsynced before Redis replies (appendfsync always),
// which is how mxpost's MXPOST_DURABILITY=fsync is met on a Redis without
// WAITAOF (Debian 12 has 7.0). Without it the 250 would wait for memory only,
// and the bench would flatter mxpost.
import { connect } from 'node:net';
import { freePort } from '../../src/queue/redis-server.ts';
import { spawnLogged, type Child } from './processes.ts';

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startDurableRedis(dir: string, logDir: string): Promise<BenchRedis> {
  const port = await freePort();
  const child: Child = spawnLogged(
    'redis-server',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'],
    { logDir },
  );
  const deadline = Date.now() + 10_000;
  while (!(await pong(port))) {
    if (child.process.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start; see ${child.log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, stop: () => child.stop() };
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('error', () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) socket.end();
    });
    socket.once('close', () => resolve(answer.startsWith('+PONG')));
  });
}
