import type { Command } from 'commander';
import { loadSettings, redactUrl } from '../config/settings.ts';
import { createDeliveryAdmin, type DeliveryAdmin, type DeliveryView } from '../delivery/admin.ts';
import { createAttemptLog } from '../delivery/attempts.ts';
import { newSecret } from '../delivery/sign.ts';
import { createRedisConnection } from '../queue/connection.ts';
import { createDeliveryQueue } from '../queue/deliveries.ts';
import { normalizeDomain } from '../routing/domain.ts';
import { EXIT_CONFIG } from './run.ts';

/**
 * The operator's verbs on deliveries. They talk to Redis with the same module
 * as the admin HTTP API (delivery/admin.ts), so both tell the same story.
 */
export function addDeliveryCommands(program: Command, exit: (code: number) => void): void {
  const deliveries = program.command('deliveries').description('read deliveries and their attempts');
  deliveries
    .command('show <id>')
    .description('a delivery: where it goes, its state and every attempt')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) =>
      exit(await withAdmin(async (admin) => {
        const view = await admin.show(id);
        if (!view) return fail(`no delivery ${id} (or it is older than MXPOST_RETENTION)`);
        print(opts.json ? view : formatView(view));
        return 0;
      })),
    );

  const dead = program.command('dead-letters').description('list, inspect and replay deliveries that ran out of retries');
  dead
    .command('list')
    .description('dead letters, newest first')
    .option('--route <domain>', 'only this domain')
    .option('--since <time>', 'only those dead-lettered since this ISO 8601 time')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { route?: string; since?: string; limit: string; json?: boolean }) =>
      exit(await withAdmin(async (admin) => {
        const filter = parseFilter(opts);
        if (typeof filter === 'string') return fail(filter);
        const list = await admin.listDeadLetters({ ...filter, limit: Number(opts.limit) });
        if (opts.json) print(list);
        else print(list.length === 0 ? 'no dead letters' : list.map((v) => `${v.id}  ${v.deadLetteredAt}  ${v.domain}  ${v.reason ?? ''}`).join('\n'));
        return 0;
      })),
    );
  dead
    .command('show <id>')
    .description('one dead letter with every attempt')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) =>
      exit(await withAdmin(async (admin) => {
        const view = await admin.show(id);
        if (view?.state !== 'dead-letter') return fail(`no dead letter ${id}`);
        print(opts.json ? view : formatView(view));
        return 0;
      })),
    );
  dead
    .command('replay [id]')
    .description('deliver again, with the same webhook-id: one by id, or all that match --route/--since, or --all')
    .option('--route <domain>', 'every dead letter of this domain')
    .option('--since <time>', 'every dead letter since this ISO 8601 time')
    .option('--all', 'every dead letter')
    .action(async (id: string | undefined, opts: { route?: string; since?: string; all?: boolean }) =>
      exit(await withAdmin(async (admin) => {
        if (id) {
          if (!(await admin.replay(id))) return fail(`no dead letter ${id}`);
          print(`replayed ${id}`);
          return 0;
        }
        const filter = parseFilter(opts);
        if (typeof filter === 'string') return fail(filter);
        if (!filter.route && !filter.since && !opts.all) return fail('give an id, or --route, --since or --all');
        const ids = await admin.replayAll(filter);
        print(ids.length === 0 ? 'nothing to replay' : `replayed ${ids.length}: ${ids.join(' ')}`);
        return 0;
      })),
    );

  program
    .command('new-secret')
    .description('print a new random webhook signing secret (whsec_…) for a route')
    .action(() => {
      print(newSecret());
      exit(0);
    });
}

export async function withAdmin(run: (admin: DeliveryAdmin) => Promise<number>): Promise<number> {
  let settings;
  try {
    settings = loadSettings(process.env);
  } catch (err) {
    return fail((err as Error).message, EXIT_CONFIG);
  }
  const connection = createRedisConnection(settings.redisUrl, 'producer', 'cli');
  connection.on('error', () => {});
  const queue = createDeliveryQueue({ connection, prefix: settings.redisPrefix, retentionMs: settings.retentionMs, onError: () => {} });
  try {
    // A command-line verb waits a few seconds for Redis, not forever.
    await Promise.race([
      queue.queue.waitUntilReady(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`cannot reach Redis at ${redactUrl(settings.redisUrl)}`)), 5000).unref()),
    ]);
    return await run(createDeliveryAdmin(queue, createAttemptLog(connection, settings.redisPrefix, settings.retentionMs)));
  } catch (err) {
    return fail((err as Error).message, 1);
  } finally {
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

export function parseFilter(opts: { route?: string; since?: string }): { route?: string; since?: number } | string {
  const route = opts.route === undefined ? undefined : normalizeDomain(opts.route);
  if (route === null) return `--route must be a domain, got ${opts.route}`;
  const since = opts.since === undefined ? undefined : Date.parse(opts.since);
  if (Number.isNaN(since)) return `--since must be an ISO 8601 time, got ${opts.since}`;
  return { route, since };
}

export function formatView(view: DeliveryView): string {
  const lines = [
    `delivery  ${view.id}  (${view.state})`,
    `  to        ${view.url}  [${view.domain}]`,
    `  message   ${view.subject ?? '(no subject)'}  for ${view.recipients.join(', ')}  received ${view.receivedAt}`,
  ];
  if (view.reason) lines.push(`  reason    ${view.reason}`);
  for (const a of view.attempts) {
    const result = a.status === null ? (a.reason ?? '') : `HTTP ${a.status}${a.outcome === 'delivered' ? '' : `  ${a.reason ?? ''}`}`;
    lines.push(`  #${a.attempt}  ${a.at}  ${a.durationMs} ms  ${a.outcome}  ${result}${a.nextAttemptAt ? `  next ${a.nextAttemptAt}` : ''}`);
  }
  return lines.join('\n');
}

export function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
}

export function fail(message: string, code = 1): number {
  process.stderr.write(`mxpost: ${message}\n`);
  return code;
}
