// Peak memory of the receiver and the worker while large messages arrive at
// once: `node bench/memory-payload.ts [count] [megabytes]` (default 20 messages
// of 25 MB, each with a text part, an HTML part and four attachments), once per
// payload configuration. Each configuration starts its own redis-server and
// `mxpost receiver` and `mxpost worker` processes, sends every message in its
// own SMTP session at the same time, waits until the endpoint has them all, and
// reads each process's peak resident set (VmHWM) from /proc. Results are
// recorded in bench/memory-payload.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { startRedisServer } from '../src/queue/redis-server.ts';

const count = Number(process.argv[2] ?? 20);
const megabytes = Number(process.argv[3] ?? 25);
const CONFIGURATIONS = [
  { name: 'defaults (attachments inline up to 5 MiB, no raw)', route: '' },
  { name: 'everything inline (inlineLimit 25MiB, raw: true)', route: '    raw: true\n    attachments: { inlineLimit: 25MiB }\n' },
];

/** A message of about `bytes` bytes: text, HTML and four base64 attachments of random bytes. */
function bigMessage(bytes: number): Buffer {
  const attachmentBytes = Math.floor((bytes - 4096) / 1.37 / 4);
  const parts = ['report.pdf:application/pdf', 'photo.jpg:image/jpeg', 'data.zip:application/zip', 'slides.pptx:application/vnd.ms-powerpoint'].map((spec) => {
    const [name, type] = spec.split(':');
    const base64 = randomBytes(attachmentBytes).toString('base64').replace(/.{76}/g, '$&\r\n');
    return `--b\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64}\r\n`;
  });
  const head = [
    'From: Sender <sender@example.org>', 'To: bench@bench.test', 'Subject: big message', 'Date: Tue, 05 Mar 2024 09:00:00 +0000',
    'Message-ID: <big@example.org>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', 'The files you asked for.', '',
    '--b', 'Content-Type: text/html; charset=utf-8', '', '<p>The files you asked for.</p>', '',
  ].join('\r\n');
  return Buffer.from(`${head}${parts.join('')}--b--\r\n`);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

/** Peak and current resident set of a process, in MiB, from /proc. */
function memory(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: kib('VmHWM') / 1024, now: kib('VmRSS') / 1024 };
}

async function run(configuration: (typeof CONFIGURATIONS)[number], message: Buffer) {
  const dir = mkdtempSync(join(tmpdir(), 'mxpost-bench-memory-'));
  const redis = await startRedisServer({ dir: join(dir, 'redis') });
  const received: number[] = [];
  const endpoint = createHttpServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      received.push(size);
      res.writeHead(204).end();
    });
  });
  endpoint.listen(0, '127.0.0.1');
  await once(endpoint, 'listening');
  const routes = join(dir, 'routes.yaml');
  writeFileSync(routes, `domains:\n  bench.test:\n    url: http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/inbound\n    recipients: ["*"]\n${configuration.route}`);
  const smtpPort = await freePort();
  const env = {
    ...process.env, MXPOST_REDIS_URL: redis.url, MXPOST_ROUTES: routes, MXPOST_SMTP_HOST: '127.0.0.1', MXPOST_SMTP_PORT: String(smtpPort),
    MXPOST_HTTP_HOST: '127.0.0.1', MXPOST_HTTP_PORT: '0', MXPOST_LOG_LEVEL: 'error', MXPOST_HOSTNAME: 'mx.bench.test',
    // Nothing answers here: SPF and DKIM read temperror at once instead of waiting on DNS.
    MXPOST_DNS_SERVERS: '127.0.0.1:9',
    // Storing 20 large payloads at once takes longer than the 5 s default.
    MXPOST_ENQUEUE_TIMEOUT_MS: '60000',
  };
  const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
  const start = (role: string): ChildProcess => spawn(process.execPath, [main, role], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const receiver = start('receiver');
  const worker = start('worker');
  try {
    await waitForPort(smtpPort);
    const started = performance.now();
    const replies = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, socketTimeout: 600_000 });
        try {
          await transport.sendMail({ envelope: { from: 'sender@example.org', to: [`bench+${i}@bench.test`] }, raw: message });
        } finally {
          transport.close();
        }
      }),
    );
    const accepted = replies.filter((r) => r.status === 'fulfilled').length;
    const acceptSeconds = (performance.now() - started) / 1000;
    const deadline = Date.now() + 600_000;
    while (received.length < accepted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const deliverSeconds = (performance.now() - started) / 1000;
    const connection = new Redis(redis.url);
    const redisPeak = Number(/used_memory_peak:(\d+)/.exec(await connection.info('memory'))?.[1] ?? NaN) / 2 ** 20;
    connection.disconnect();
    return {
      configuration: configuration.name, accepted, delivered: received.length, acceptSeconds, deliverSeconds,
      payloadMiB: Math.max(...received) / 2 ** 20, receiver: memory(receiver.pid!).peak, worker: memory(worker.pid!).peak, redisPeak,
      failures: replies.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : [])).slice(0, 3),
    };
  } finally {
    for (const child of [receiver, worker]) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    endpoint.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForPort(port: number): Promise<void> {
  for (let tries = 0; tries < 300; tries++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on port ${port}`);
}

const message = bigMessage(megabytes * 1_000_000);
process.stdout.write(`${count} messages of ${(message.length / 1e6).toFixed(1)} MB at once, Node ${process.version}\n\n`);
process.stdout.write('| configuration | accepted | delivered | all accepted (s) | all delivered (s) | payload (MiB) | receiver peak RSS (MiB) | worker peak RSS (MiB) | Redis peak (MiB) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
for (const configuration of CONFIGURATIONS) {
  const r = await run(configuration, message);
  process.stdout.write(
    `| ${r.configuration} | ${r.accepted}/${count} | ${r.delivered} | ${r.acceptSeconds.toFixed(1)} | ${r.deliverSeconds.toFixed(1)} | ${r.payloadMiB.toFixed(1)} | ${r.receiver.toFixed(0)} | ${r.worker.toFixed(0)} | ${r.redisPeak.toFixed(0)} |\n`,
  );
  if (r.failures.length > 0) process.stdout.write(`  failures: ${r.failures.join('; ')}\n`);
}
