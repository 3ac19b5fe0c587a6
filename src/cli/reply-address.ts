import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import { normalizeDomain } from '../routing/domain.ts';
import { mintReplyAddress } from '../routing/reply-address.ts';
import { EXIT_CONFIG, loadConfiguration } from './run.ts';

/**
 * `mxpost reply-address --domain d --id 4821 [--ttl 30d]`: prints a signed reply
 * address for a route with replyTokens, signed with its newest secret. Applications
 * in TypeScript call mintReplyAddress (src/routing/reply-address.ts) instead.
 */
export function addReplyAddressCommand(program: Command, exit: (code: number) => void): void {
  program
    .command('reply-address')
    .description('print a signed reply address (reply+<token>@domain) carrying an application id')
    .requiredOption('--domain <domain>', 'a routes-file domain with replyTokens')
    .requiredOption('--id <id>', 'the application id the address carries (up to 20 characters: letters, digits, . _ : -)')
    .option('--ttl <duration>', 'how long the address is valid, such as 30d; "never" for no expiry', '30d')
    .option('--routes <path>', 'the routes file (default: MXPOST_ROUTES)')
    .action(async (opts: { domain: string; id: string; ttl: string; routes?: string }) => exit(await runReplyAddress(opts)));
}

async function runReplyAddress(opts: { domain: string; id: string; ttl: string; routes?: string }): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`mxpost: ${message}\n`);
    return EXIT_CONFIG;
  };
  const ttlMs = opts.ttl === 'never' ? null : parseDuration(opts.ttl);
  if (opts.ttl !== 'never' && (ttlMs === null || ttlMs <= 0)) return fail(`--ttl must be a duration such as 30d, or "never", got ${JSON.stringify(opts.ttl)}`);
  const config = await loadConfiguration(process.env, opts.routes);
  if (!config) return EXIT_CONFIG;
  const domain = normalizeDomain(opts.domain);
  const route = domain === null ? undefined : config.routes.domains.get(domain);
  if (!route) return fail(`${opts.domain} is not a domain of ${config.routes.source}`);
  if (!route.replyTokens) return fail(`the route of ${route.domain} has no replyTokens`);
  try {
    const address = mintReplyAddress({ domain: route.domain, id: opts.id, secret: route.endpoint.secrets[0]!, ttlMs, localPart: route.replyTokens.localPart });
    process.stdout.write(`${address}\n`);
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
