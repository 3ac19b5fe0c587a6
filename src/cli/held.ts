import type { Command } from 'commander';
import type { DeliveryView } from '../delivery/admin.ts';
import { fail, parseFilter, print, withAdmin } from './deliveries.ts';

/**
 * `mxpost held list|release|drop`: deliveries that a hold rule keeps
 * (docs/routing.md), through the same module as the admin API (delivery/admin.ts).
 */
export function addHeldCommands(program: Command, exit: (code: number) => void): void {
  const held = program.command('held').description('list, release or drop deliveries held by routing rules');
  held
    .command('list')
    .description('held deliveries, oldest first')
    .option('--route <domain>', 'only this domain')
    .option('--rule <name>', 'only those held by this rule')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { route?: string; rule?: string; limit: string; json?: boolean }) =>
      exit(await withAdmin(async (admin) => {
        const filter = parseFilter(opts);
        if (typeof filter === 'string') return fail(filter);
        const list = await admin.listHeld({ route: filter.route, rule: opts.rule, limit: Number(opts.limit) });
        if (opts.json) print(list);
        else print(list.length === 0 ? 'no held deliveries' : list.map(formatHeld).join('\n'));
        return 0;
      })),
    );
  held
    .command('release [id]')
    .description('deliver now: one by id, or all that match --route/--rule, or --all')
    .option('--route <domain>', 'every held delivery of this domain')
    .option('--rule <name>', 'every delivery held by this rule')
    .option('--all', 'every held delivery')
    .action(async (id: string | undefined, opts: { route?: string; rule?: string; all?: boolean }) =>
      exit(await withAdmin(async (admin) => {
        if (id) {
          if (!(await admin.release(id))) return fail(`no held delivery ${id}`);
          print(`released ${id}`);
          return 0;
        }
        const filter = parseFilter(opts);
        if (typeof filter === 'string') return fail(filter);
        if (!filter.route && !opts.rule && !opts.all) return fail('give an id, or --route, --rule or --all');
        const ids = await admin.releaseAll({ route: filter.route, rule: opts.rule });
        print(ids.length === 0 ? 'nothing to release' : `released ${ids.length}: ${ids.join(' ')}`);
        return 0;
      })),
    );
  held
    .command('drop <id>')
    .description('discard a held delivery: it is never delivered')
    .action(async (id: string) =>
      exit(await withAdmin(async (admin) => {
        if (!(await admin.drop(id))) return fail(`no held delivery ${id}`);
        print(`dropped ${id}`);
        return 0;
      })),
    );
}

function formatHeld(view: DeliveryView): string {
  return `${view.id}  since ${view.held?.since ?? view.receivedAt}  rule ${view.held?.rule ?? '?'}  ${view.domain}  ${view.recipients.join(', ')}  ${view.subject ?? '(no subject)'}`;
}
