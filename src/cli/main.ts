import { Command } from 'commander';
import { VERSION } from '../roles/version.ts';
import { runCheck } from './check.ts';
import { addDeliveryCommands } from './deliveries.ts';
import { runDev } from './dev.ts';
import { addHeldCommands } from './held.ts';
import { addReplyAddressCommand } from './reply-address.ts';
import { addRoutesCommands } from './routes.ts';
import { runService } from './run.ts';

// The mxpost command: every verb in one binary. Each action returns the process
// exit code; nothing here starts anything until a verb is chosen.
const program = new Command('mxpost')
  .description('Self-hosted inbound email: accepts mail for your domains over SMTP and POSTs it as JSON to your webhooks.')
  .version(VERSION)
  .showHelpAfterError()
  .addHelpText('after', '\nSettings come from MXPOST_* environment variables; see .env.example.');

program
  .command('serve')
  .description('run the SMTP receiver and the delivery worker in one process')
  .action(async () => exit(await runService('serve')));

program
  .command('receiver')
  .description('run only the SMTP receiver (scale it apart from the workers)')
  .action(async () => exit(await runService('receiver')));

program
  .command('worker')
  .description('run only the delivery worker')
  .action(async () => exit(await runService('worker')));

program
  .command('dev')
  .description('run locally with embedded defaults: its own Redis, a development domain and a payload inspector')
  .option('--domain <domain>', 'the development domain that accepts any recipient', 'mxpost.test')
  .action(async (opts: { domain: string }) => exit(await runDev(opts)));

program
  .command('check')
  .description('validate the settings and the routes file, then exit')
  .option('--routes <path>', 'the routes file to check (default: MXPOST_ROUTES)')
  .action(async (opts: { routes?: string }) => exit(await runCheck(opts)));

addDeliveryCommands(program, exit);
addHeldCommands(program, exit);
addReplyAddressCommand(program, exit);
addRoutesCommands(program, exit);

function exit(code: number): void {
  process.exitCode = code;
}

await program.parseAsync(process.argv);
