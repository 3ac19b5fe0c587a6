// What the durability wait before a 250 costs (MXPOST_DURABILITY, MXPOST_REDIS_MIN_REPLICAS).
// Usage: node bench/durability.ts [transactions] [concurrency...]
// Each configuration gets its own redis-server; each transaction is one
// DeliveryQueue.enqueue() of one ~2 KB delivery, exactly the receiver's path
// (durability check, addBulk, the wait), with `concurrency` SMTP sessions
// enqueueing at once. Prints latency percentiles and throughput per setup.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDurability, createRedisConnection, inspectRedis, type DurabilityMode } from '../src/queue/connection.ts';
import { createDeliveryQueue, type DeliveryJob } from '../src/queue/deliveries.ts';
import { benchPayload } from './support/payload.ts';
import { freePort } from '../src/queue/redis-server.ts';

const transactions = Number(process.argv[2] ?? 2000);
const concurrencies = process.argv.slice(3).map(Number);
if (concurrencies.length === 0) concurrencies.push(1, 16);

interface Setup {
  readonly name: string;
  readonly redis: string[];
  readonly mode: DurabilityMode;
  readonly replica?: boolean;
}
const SETUPS: Setup[] = [
  { name: 'no AOF, memory (baseline)', redis: ['--appendonly', 'no'], mode: 'memory' },
  { name: 'AOF everysec, memory (no wait)', redis: ['--appendonly', 'yes', '--appendfsync', 'everysec'], mode: 'memory' },
  { name: 'AOF always, fsync', redis: ['--appendonly', 'yes', '--appendfsync', 'always'], mode: 'fsync' },
  { name: 'AOF everysec, fsync (WAITAOF, Redis 7.2+)', redis: ['--appendonly', 'yes', '--appendfsync', 'everysec'], mode: 'fsync' },
  { name: 'no AOF, memory + 1 replica (WAIT 1)', redis: ['--appendonly', 'no'], mode: 'memory', replica: true },
];

async function redisServer(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'mxpost-bench-durability-'));
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', ...args], { stdio: 'ignore' });
  for (let tries = 0; ; tries++) {
    try {
      const socket = connect({ port, host: '127.0.0.1' });
      await once(socket, 'connect');
      socket.destroy();
      break;
    } catch {
      if (tries > 500) throw new Error(`redis-server ${args.join(' ')} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const text = 'Hello,\n\nThis is a benchmark message of a typical size for a reply to a support ticket.\n'.repeat(20);
let sequence = 0;
function job(): DeliveryJob {
  const deliveryId = `DUR${String(sequence++).padStart(10, '0')}-1`;
  return {
    deliveryId, queueId: deliveryId.slice(0, -2), domain: 'bench.test', address: null, url: 'http://127.0.0.1:9/inbound', windowStartedAt: Date.now(),
    payload: benchPayload(deliveryId, deliveryId, text),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const rows: string[] = [];
for (const setup of SETUPS) {
  const primary = await redisServer(setup.redis);
  const replica = setup.replica ? await redisServer(['--replicaof', '127.0.0.1', String(primary.port)]) : null;
  const connection = createRedisConnection(primary.url, 'producer', 'bench');
  await once(connection, 'ready');
  const facts = await inspectRedis(connection);
  if (setup.mode === 'fsync' && setup.redis.includes('everysec') && !facts.hasWaitAof) {
    rows.push(`| ${setup.name} | – | – | – | – | – | Redis ${facts.version} has no WAITAOF: with this setup mxpost refuses mail (451) |`);
    connection.disconnect();
    await primary.stop();
    continue;
  }
  let plan = '';
  const durability = createDurability(connection, { mode: setup.mode, replicas: setup.replica ? 1 : 0, report: (p) => (plan = p.kind) });
  const queue = createDeliveryQueue({ connection, prefix: 'bench', retentionMs: 3600_000, onError: () => {}, durability });
  // Warm up: scripts loaded, the replica in sync, the plan read.
  for (let i = 0; i < 100; i++) await queue.enqueue([job()], 10_000).catch(() => new Promise((resolve) => setTimeout(resolve, 100)));
  for (const concurrency of concurrencies) {
    const latencies: number[] = [];
    let left = transactions;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) {
          const t0 = performance.now();
          await queue.enqueue([job()], 10_000);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const ms = (v: number) => v.toFixed(2);
    rows.push(`| ${setup.name} | ${plan}${setup.replica ? ' + WAIT 1' : ''} | ${concurrency} | ${ms(percentile(latencies, 50))} | ${ms(percentile(latencies, 99))} | ${Math.round(transactions / seconds)} | |`);
    process.stderr.write(`${setup.name}, ${concurrency} at once: p50 ${ms(percentile(latencies, 50))} ms, ${Math.round(transactions / seconds)}/s\n`);
  }
  await queue.close();
  connection.disconnect();
  await replica?.stop();
  await primary.stop();
}

process.stdout.write(
  [
    `${transactions} enqueues per row, one ~2 KB delivery each; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, data in ${tmpdir()}`,
    '',
    '| Redis setup | plan | sessions at once | p50 ms | p99 ms | enqueues/s | note |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n'),
);
