// The systems under test, each started the same way: on a free loopback port,
// its output in a log file, resolved once it greets with 220.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/queue/redis-server.ts';
import { BENCH_DOMAIN } from './mail.ts';
import { spawnLogged, waitForLog, waitForSmtp, type Child } from './processes.ts';
import type { HarakaInstall, PostfixTools } from './tools.ts';

export interface BenchContext {
  readonly runDir: string;
  readonly postfix: PostfixTools;
  readonly haraka: HarakaInstall;
  readonly redisUrl: string;
  /** host:port of the bench's DNS server. */
  readonly dns: string;
  readonly endpointPort: number;
  /** Extra environment of the mxpost receiver (e.g. NODE_OPTIONS for --cpu-prof). */
  readonly receiverEnv?: NodeJS.ProcessEnv;
}

export interface Running {
  readonly port: number;
  /** The processes whose memory is reported, by role. */
  readonly processes: readonly Child[];
  /** BullMQ prefix of an mxpost system; null for the others. */
  readonly prefix: string | null;
  /** Whether a worker delivers what is accepted (serve, receiver + worker). */
  readonly delivers: boolean;
  stop(): Promise<void>;
}

export interface System {
  readonly id: SystemId;
  readonly label: string;
  start(context: BenchContext): Promise<Running>;
}

export type SystemId = 'smtp-sink' | 'bare' | 'haraka' | 'naive' | 'mxpost-receiver' | 'mxpost-split' | 'mxpost-serve' | 'mxpost-receiver-baseline';

const node = process.execPath;
const here = (path: string) => new URL(path, import.meta.url).pathname;
const BIN = here('../../bin/mxpost');

let instances = 0;

async function started(children: Child[], port: number, extra: Partial<Running> = {}): Promise<Running> {
  try {
    await waitForSmtp(port, children[0]!);
  } catch (err) {
    await Promise.all(children.map((c) => c.stop()));
    throw err;
  }
  return {
    port,
    processes: children,
    prefix: null,
    delivers: false,
    ...extra,
    stop: async () => {
      await Promise.all(children.map((c) => c.stop()));
    },
  };
}

const smtpSink: System = {
  id: 'smtp-sink',
  label: 'Postfix smtp-sink',
  async start(context) {
    const port = await freePort();
    // smtp-sink refuses to run as root without a user to drop to.
    const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
    const child = spawnLogged('smtp-sink', context.postfix.smtpSink, [...user, `127.0.0.1:${port}`, '1024'], { env: context.postfix.env, logDir: context.runDir });
    return started([child], port);
  },
};

const bare: System = {
  id: 'bare',
  label: 'bare smtp-server (discard)',
  async start(context) {
    const port = await freePort();
    return started([spawnLogged('bare-smtp', node, [here('../servers/bare-smtp.ts'), String(port)], { logDir: context.runDir })], port);
  },
};

const naive: System = {
  id: 'naive',
  label: 'smtp-server + simpleParser + authenticate()',
  async start(context) {
    const port = await freePort();
    return started([spawnLogged('naive', node, [here('../servers/naive.ts'), String(port), context.dns], { logDir: context.runDir })], port);
  },
};

const haraka: System = {
  id: 'haraka',
  label: 'Haraka 3 (accept, discard)',
  async start(context) {
    const port = await freePort();
    const dir = join(context.runDir, `haraka-${++instances}`);
    const config = join(dir, 'config');
    const bin = join(context.haraka.main, '../bin/haraka');
    // `haraka -i` writes Haraka's default configuration (connection.ini and the
    // rest, which Haraka needs); then only what an inbound discarding MX changes.
    execFileSync(node, [bin, '-i', dir], { stdio: 'ignore' });
    // Haraka's defaults, with the plugins of an inbound MX that keeps nothing:
    // accept the bench domain, then the discard queue (YES_REALLY_DO_DISCARD).
    // One worker process (nodes unset), as mxpost runs one process; log level
    // notice, which still logs each connection, transaction and queue result.
    writeFileSync(join(config, 'smtp.ini'), `listen=127.0.0.1:${port}\n`);
    writeFileSync(join(config, 'plugins'), 'rcpt_to.in_host_list\nqueue/discard\n');
    writeFileSync(join(config, 'host_list'), `${BENCH_DOMAIN}\n`);
    writeFileSync(join(config, 'log.ini'), '[main]\nlevel=notice\n');
    writeFileSync(join(config, 'me'), 'haraka.bench.test\n');
    const child = spawnLogged('haraka', node, [bin, '-c', dir], { env: { ...process.env, YES_REALLY_DO_DISCARD: '1' }, logDir: context.runDir });
    return started([child], port);
  },
};

/** mxpost in one role or two, as `bin/mxpost` runs in production, with its own Redis prefix. */
function mxpost(id: SystemId, label: string, roles: readonly ('serve' | 'receiver' | 'worker')[], bin = BIN): System {
  return {
    id,
    label,
    async start(context) {
      const prefix = `bench-${id}-${++instances}`;
      const routes = join(context.runDir, 'routes.yaml');
      writeFileSync(routes, `domains:\n  ${BENCH_DOMAIN}:\n    url: http://127.0.0.1:${context.endpointPort}/inbound\n    recipients: ["*"]\n`);
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        MXPOST_REDIS_URL: context.redisUrl,
        MXPOST_REDIS_PREFIX: prefix,
        MXPOST_SMTP_HOST: '127.0.0.1',
        MXPOST_SMTP_PORT: String(port),
        MXPOST_HTTP_HOST: '127.0.0.1',
        MXPOST_HTTP_PORT: '0',
        MXPOST_HOSTNAME: 'mx.bench.test',
        MXPOST_ROUTES: routes,
        MXPOST_DNS_SERVERS: context.dns,
        // The 250 waits until the jobs are fsynced in Redis's append-only file
        // (redis.ts runs Redis with appendfsync always), as production should.
        MXPOST_DURABILITY: 'fsync',
        // Production's default level: one line per transaction and per attempt.
        MXPOST_LOG_LEVEL: 'info',
        // The load comes from one address standing for many senders: the
        // per-client limits (20 connections, 100 messages per connection by
        // default) would refuse the 50-session and kept-connection runs.
        MXPOST_MAX_CONNECTIONS_PER_CLIENT: '1000',
        MXPOST_MAX_MESSAGES_PER_CONNECTION: '1000000',
      };
      const children = roles.map((role) =>
        spawnLogged(`${id}-${role}`, bin, [role], { env: role === 'worker' ? env : { ...env, ...context.receiverEnv }, logDir: context.runDir }),
      );
      try {
        await Promise.all(children.map((child) => waitForLog(child, /"action":"start"/)));
      } catch (err) {
        await Promise.all(children.map((c) => c.stop()));
        throw err;
      }
      return started(children, port, { prefix, delivers: roles.some((r) => r !== 'receiver') });
    },
  };
}

/**
 * The receiver of another checkout of mxpost (`--baseline DIR`: a copy of an
 * earlier commit with its own node_modules), measured in the same run as this
 * one, so that a change is compared before and after under the same load.
 */
export function baselineReceiver(dir: string): System {
  const commit = (() => {
    try {
      return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return dir;
    }
  })();
  return mxpost('mxpost-receiver-baseline', `mxpost receiver, baseline (${commit})`, ['receiver'], join(dir, 'bin/mxpost'));
}

export const SYSTEMS: readonly System[] = [
  smtpSink,
  bare,
  haraka,
  naive,
  mxpost('mxpost-receiver', 'mxpost receiver (no worker)', ['receiver']),
  mxpost('mxpost-split', 'mxpost receiver + worker', ['receiver', 'worker']),
  mxpost('mxpost-serve', 'mxpost serve', ['serve']),
];
