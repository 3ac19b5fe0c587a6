import type { Command } from 'commander';
import { dryRun, formatDryRun, parseDryRunInput } from '../routing/dry-run.ts';
import { EXIT_CONFIG, loadConfiguration } from './run.ts';

/**
 * `mxpost routes test <address> [--from … --header … --auth …]`: which rule
 * takes a message and what would happen to it, from the routes file alone;
 * nothing is sent and no service needs to run (routing/dry-run.ts).
 */
export function addRoutesCommands(program: Command, exit: (code: number) => void): void {
  const routes = program.command('routes').description('try the routes file without sending mail');
  const collect = (value: string, previous: string[]) => [...previous, value];
  routes
    .command('test <address>')
    .description('say which rule matches a recipient and what would happen, without sending anything')
    .option('--from <address>', 'the envelope sender (MAIL FROM); "<>" for a bounce', '')
    .option('--header <field>', 'a header field "Name: value" (repeat for more)', collect, [])
    .option('--auth <verdict>', 'a verdict to assume, such as dmarc=pass (repeat for more; a check not given reads none)', collect, [])
    .option('--routes <path>', 'the routes file (default: MXPOST_ROUTES)')
    .option('--json', 'print JSON')
    .action(async (address: string, opts: { from: string; header: string[]; auth: string[]; routes?: string; json?: boolean }) => {
      const input = parseDryRunInput({ to: address, from: opts.from, headers: opts.header, auth: opts.auth });
      if (typeof input === 'string') {
        process.stderr.write(`mxpost: ${input}\n`);
        return exit(EXIT_CONFIG);
      }
      const config = await loadConfiguration(process.env, opts.routes);
      if (!config) return exit(EXIT_CONFIG);
      const run = dryRun(config.routes, input);
      process.stdout.write(`${opts.json ? JSON.stringify(run, null, 2) : formatDryRun(run)}\n`);
      exit(0);
    });
}
