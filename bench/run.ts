// `npm run bench`: SMTP acceptance of mxpost beside Postfix's smtp-sink, a bare
// smtp-server, Haraka and a naive smtp-server + parser + auth, under one load
// (Postfix's smtp-source); then mxpost end to end, memory, and optionally a CPU
// profile of the receiver. Prints Markdown and keeps it with the raw results in
// .mxpost/bench/results/. See bench/README.md.
//
//   node bench/run.ts [--quick] [--profile | --profile-only] [--runs N] [--seconds S]
//                     [--sizes 10k,200k] [--sessions 1,10,50] [--connections new,kept]
//                     [--e2e-seconds S] [--e2e-rate R] [--no-big] [--systems haraka,mxpost-receiver,…]
//                     [--baseline DIR]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDnsServer } from '../test/support/dns-server.ts';
import { measureCell, type CellResult, type Plan } from './harness/acceptance.ts';
import { measureBigMessages, type BigResult } from './harness/big.ts';
import { measureEndToEnd, type EndToEnd } from './harness/e2e.ts';
import { startTimedEndpoint } from './harness/endpoint.ts';
import { createFixtures, type MessageFile } from './harness/mail.ts';
import { smtpSource, type Connections } from './harness/load.ts';
import { cpuTimeMs } from './harness/processes.ts';
import { summarizeProfile } from './harness/profile.ts';
import { watchQueues } from './harness/queue-watch.ts';
import { startDurableRedis } from './harness/redis.ts';
import { formatReport, type Report } from './harness/report.ts';
import { baselineReceiver, SYSTEMS, type BenchContext, type Running, type SystemId } from './harness/systems.ts';
import { ensureHaraka, ensurePostfixTools, ToolUnavailableError } from './harness/tools.ts';

/** Exit code of a bench that cannot run here (automake's SKIP), which the test suite reads as a skip. */
export const EXIT_SKIP = 77;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-only': { type: 'boolean', default: false },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    sizes: { type: 'string' },
    sessions: { type: 'string' },
    connections: { type: 'string' },
    'e2e-seconds': { type: 'string' },
    'e2e-rate': { type: 'string' },
    'no-big': { type: 'boolean', default: false },
    systems: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const quick = args.quick;
const SIZES: Record<string, number> = { '10k': 10 * 1024, '200k': 200 * 1024 };
const sizes = (args.sizes ?? (quick ? '10k' : '10k,200k')).split(',');
const sessionCounts = (args.sessions ?? (quick ? '10' : '1,10,50')).split(',').map(Number);
const connectionModes = (args.connections ?? (quick ? 'new' : 'new,kept')).split(',') as Connections[];
const plan: Plan = {
  runs: Number(args.runs ?? (quick ? 1 : 3)),
  targetSeconds: Number(args.seconds ?? (quick ? 0.3 : 2)),
  warmupMessages: (sessions) => (quick ? Math.max(sessions, 10) : Math.max(sessions * 3, 30)),
  maxMessages: 20_000,
};
const e2eSeconds = Number(args['e2e-seconds'] ?? (quick ? 2 : 15));
// A fixed offered rate for end to end (msg/s), instead of half of what each system accepted.
const e2eRate = args['e2e-rate'] === undefined ? null : Number(args['e2e-rate']);
const big = !quick && !args['no-big'] && !args['profile-only'];
const profileOnly = args['profile-only'];
// A subset of the systems (their ids in harness/systems.ts), for a quicker before/after of one change.
const chosen = args.systems ? new Set(args.systems.split(',')) : null;
const unknown = chosen ? [...chosen].filter((id) => !SYSTEMS.some((s) => s.id === id)) : [];
if (unknown.length > 0) throw new Error(`--systems: unknown ${unknown.join(', ')}; known: ${SYSTEMS.map((s) => s.id).join(', ')}`);
const systems = [...SYSTEMS.filter((s) => chosen === null || chosen.has(s.id)), ...(args.baseline ? [baselineReceiver(args.baseline)] : [])];
const say = (text: string) => process.stderr.write(`bench: ${text}\n`);

const root = new URL('..', import.meta.url).pathname;
const scratch = join(root, '.mxpost/bench');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const runDir = join(scratch, 'runs', stamp);
mkdirSync(runDir, { recursive: true });

const tools = (() => {
  try {
    return { postfix: ensurePostfixTools(scratch), haraka: ensureHaraka(scratch) };
  } catch (err) {
    if (!(err instanceof ToolUnavailableError)) throw err;
    process.stderr.write(`bench: skipped: ${err.message}\n`);
    return process.exit(EXIT_SKIP);
  }
})();
const { postfix, haraka } = tools;

say(`preparing messages in ${runDir}`);
const fixtures = createFixtures(runDir);
const messages = new Map<string, MessageFile>();
for (const size of sizes) messages.set(size, await fixtures.message(size, SIZES[size] ?? Number(size)));
const bigMessage = big ? await fixtures.message('20m', 20 * 1024 * 1024) : null;

const cleanups: (() => Promise<unknown>)[] = [];
// Stopped from outside (Ctrl-C, a timeout): stop every child first, so none is left running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping what the bench started`);
    void (async () => {
      for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
      process.exit(130);
    })();
  });
}
mkdirSync(join(runDir, 'redis'));
const redis = await startDurableRedis(join(runDir, 'redis'), runDir);
// The append-only file of a whole run takes gigabytes and is of no use after it.
cleanups.push(() => redis.stop().then(() => rmSync(join(runDir, 'redis'), { recursive: true, force: true })));
const redisPid = redis.pid;
const dns = await startDnsServer(fixtures.zone);
cleanups.push(() => dns.stop());
const endpoint = await startTimedEndpoint();
cleanups.push(() => endpoint.stop());
const watch = watchQueues(redis.url);
cleanups.push(() => watch.close());
const context: BenchContext = { runDir, postfix, haraka, redisUrl: redis.url, dns: dns.address, endpointPort: endpoint.port };

const cells: CellResult[] = [];
const endToEnd: EndToEnd[] = [];
const bigResults: BigResult[] = [];
const profiles: Report['profiles'][number][] = [];
const loadAverage = loadavg().map((l) => l.toFixed(2)).join(' ');

try {
  if (!profileOnly) {
    const running = new Map<SystemId, Running>();
    cleanups.push(() => Promise.all([...running.values()].map((r) => r.stop())));
    for (const system of systems) {
      say(`starting ${system.label}`);
      running.set(system.id, await system.start(context));
    }
    for (const connections of connectionModes) {
      for (const size of sizes) {
        for (const sessions of sessionCounts) {
          say(`acceptance: ${size} messages, ${sessions} sessions, ${connections} connections`);
          cells.push(...(await measureCell({ systems: running, message: messages.get(size)!, sessions, connections, plan, postfix, watch, redisPid })));
        }
      }
    }
    // End to end at half of the highest rate (median of its runs) the system accepted for this size.
    const e2eSize = sizes.includes('10k') ? '10k' : sizes[0]!;
    for (const id of ['mxpost-serve', 'mxpost-split'] as const) {
      if (!running.has(id)) continue;
      const max = Math.max(0, ...cells.filter((c) => c.system === id && c.size === e2eSize).map((c) => c.rate?.median ?? 0));
      if (!max) continue;
      const rate = e2eRate ?? max / 2;
      say(`end to end: ${id} at ${Math.round(rate)} msg/s for ${e2eSeconds} s`);
      endToEnd.push(await measureEndToEnd({ id, running: running.get(id)!, message: messages.get(e2eSize)!, rate, seconds: e2eSeconds, endpoint, watch }));
    }
    if (bigMessage) {
      for (const id of ['mxpost-serve', 'mxpost-split'] as const) {
        if (!running.has(id)) continue;
        say(`memory: 20 messages of 20 MB at once to ${id}`);
        bigResults.push(await measureBigMessages({ id, running: running.get(id)!, message: bigMessage, count: 20, postfix, watch, endpoint }));
      }
      rmSync(bigMessage.path, { force: true });
    }
    await Promise.all([...running.values()].map((r) => r.stop()));
  }
  if (args.profile || profileOnly) {
    // Per message with the greeting pause out of the way, then as an MX sees mail: a new connection each.
    for (const size of sizes) profiles.push(await profileReceiver(messages.get(size)!, 'kept', 10));
    if (messages.has('10k')) profiles.push(await profileReceiver(messages.get('10k')!, 'new', 50));
  }
} finally {
  for (const cleanup of [...cleanups].reverse()) await cleanup().catch((err: Error) => say(`cleanup: ${err.message}`));
}

/**
 * The receiver alone (no worker), under --cpu-prof, for about eight seconds
 * after a warm-up; the profile is written when it exits on SIGTERM.
 */
async function profileReceiver(message: MessageFile, connections: Connections, sessions: number): Promise<Report['profiles'][number]> {
  const label = `${message.label} messages, ${sessions} sessions, ${connections} connections`;
  const dir = join(runDir, `profile-${message.label}-${connections}-${sessions}`);
  mkdirSync(dir, { recursive: true });
  const system = SYSTEMS.find((s) => s.id === 'mxpost-receiver')!;
  const running = await system.start({ ...context, receiverEnv: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` } });
  const window: [number, number] = [0, 0];
  let rate = 0;
  let messagesProfiled = 0;
  let cpuMs = NaN;
  try {
    say(`profile: receiver under ${label}`);
    const warm = await smtpSource(postfix, { port: running.port, sessions, connections, messages: 100, message, timeoutMs: 60_000 });
    const count = Math.round(Math.min(20_000, Math.max(200, warm.rate * (quick ? 1 : 8))));
    window[0] = Number(process.hrtime.bigint() / 1000n);
    const cpuBefore = cpuTimeMs(running.processes[0]!.pid) ?? NaN;
    const run = await smtpSource(postfix, { port: running.port, sessions, connections, messages: count, message, timeoutMs: 120_000 });
    window[1] = Number(process.hrtime.bigint() / 1000n);
    cpuMs = (cpuTimeMs(running.processes[0]!.pid) ?? NaN) - cpuBefore;
    say(`profile: ${count} messages at ${Math.round(run.rate)} msg/s`);
    rate = run.rate;
    messagesProfiled = count;
  } finally {
    await running.stop();
    await watch.clear(running.prefix!);
  }
  const file = execFileSync('sh', ['-c', `ls -t "${dir}"/*.cpuprofile | head -1`], { encoding: 'utf8' }).trim();
  const foldedPath = join(dir, 'receiver.folded');
  const summary = summarizeProfile(file, { window, foldedPath });
  // From /proc: the profile's own time also counts the moments the process waited for a core.
  const perMessage = cpuMs / Math.max(1, messagesProfiled);
  return { cpuMsPerMessage: perMessage, label: `${label}: ${messagesProfiled} messages at ${Math.round(rate)} msg/s, ${perMessage.toFixed(2)} ms of CPU per message (profiler on)`, summary, files: `${file.slice(root.length)}, ${foldedPath.slice(root.length)}` };
}

const version = (pkg: string) => {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};
const git = (...a: string[]) => {
  try {
    return execFileSync('git', ['-C', root, ...a], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const commit = git('rev-parse', '--short', 'HEAD');
const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
const header = [
  `# mxpost benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at start ${loadAverage}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  '- Redis: appendonly yes, appendfsync always; mxpost MXPOST_DURABILITY=fsync (a 250 waits for the fsync)',
  `- versions: Node ${process.version}, ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}, ` +
    `Postfix smtp-source/smtp-sink ${postfix.version}, Haraka ${haraka.version}, smtp-server ${version('smtp-server')}, ` +
    `mailauth ${version('mailauth')}, mailparser ${version('mailparser')}, bullmq ${version('bullmq')}, ioredis ${version('ioredis')}`,
  `- mxpost: ${commit}${dirty > 0 ? ` with ${dirty} uncommitted change(s) in src/` : ''}`,
  `- command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``,
  `- load: smtp-source, a new connection per message and kept connections (-d); DKIM-signed (RSA-2048) messages that pass SPF, DKIM and DMARC: ` +
    [...messages.values(), ...(bigMessage ? [bigMessage] : [])].map((m) => `${m.label} = ${m.bytes} bytes`).join(', '),
  `- logs and messages of this run: ${runDir.slice(root.length)}`,
];
const text = formatReport({ header, systems, cells, endToEnd, big: bigResults, profiles });
process.stdout.write(text);
mkdirSync(join(scratch, 'results'), { recursive: true });
writeFileSync(join(scratch, 'results', `${stamp}.md`), text);
writeFileSync(join(scratch, 'results', `${stamp}.json`), JSON.stringify({ cells, endToEnd, big: bigResults, profiles }, null, 1));
say(`results kept in .mxpost/bench/results/${stamp}.md`);
