import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { parseRoutes } from '../../src/config/routes.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startService, type Role, type Service } from '../../src/roles/service.ts';
import { startDnsServer, type DnsServer } from './dns-server.ts';

// One empty DNS server on loopback per test process: authentication runs on every
// message, and must never wait on the machine's own resolver (unreachable on CI).
// It answers NXDOMAIN at once, so every verdict reads `none`.
let dns: Promise<DnsServer> | null = null;
after(async () => {
  await (await dns)?.stop();
});

/**
 * mxpost started in this process with a routes file given as YAML text, on
 * free ports, with its own Redis key prefix. Retries are quick so that tests
 * can watch a retry happen; everything else is the production code path.
 */
export async function startMxpost(options: {
  redisUrl: string;
  routes: string;
  role?: Role;
  env?: Record<string, string>;
  prefix?: string;
}): Promise<Service & { smtpPort: number; prefix: string; env: NodeJS.ProcessEnv }> {
  const prefix = options.prefix ?? `test-${randomUUID()}`;
  dns ??= startDnsServer();
  const dnsServer = await dns;
  const env: NodeJS.ProcessEnv = {
    MXPOST_REDIS_URL: options.redisUrl,
    MXPOST_REDIS_PREFIX: prefix,
    MXPOST_SMTP_HOST: '127.0.0.1',
    MXPOST_SMTP_PORT: '0',
    MXPOST_HTTP_HOST: '127.0.0.1',
    MXPOST_HTTP_PORT: '0',
    MXPOST_HOSTNAME: 'mx.test',
    MXPOST_RETRY_DELAY_MS: '100',
    MXPOST_ENQUEUE_TIMEOUT_MS: '1000',
    MXPOST_SHUTDOWN_TIMEOUT_MS: '5000',
    MXPOST_LOG_LEVEL: process.env.MXPOST_TEST_LOG_LEVEL ?? 'silent',
    MXPOST_DNS_SERVERS: dnsServer.address,
    ...options.env,
  };
  const settings = loadSettings(env);
  const routes = parseRoutes(options.routes, { source: 'test routes', env });
  const logger = createLogger({ level: settings.logLevel });
  const service = await startService({ settings, routes, role: options.role ?? 'serve', logger, env });
  return Object.assign(service, { smtpPort: service.smtp?.port ?? 0, prefix, env });
}
