import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseRoutes } from '../config/routes.ts';
import { loadSettings } from '../config/settings.ts';
import { startInspector } from '../dev/inspector.ts';
import { createLogger } from '../observability/logger.ts';
import { startRedisServer } from '../queue/redis-server.ts';
import { startService } from '../roles/service.ts';
import { EXIT_CONFIG, waitForSignals } from './run.ts';

/** Local data of `mxpost dev`, git-ignored. */
const DATA_DIR = '.mxpost';

/**
 * `mxpost dev`: everything on this machine with no configuration. Its own
 * redis-server (data in .mxpost/redis), one catch-all development domain, and
 * the inspector as the webhook. Settings from MXPOST_* still apply where set.
 */
export async function runDev(opts: { domain: string }): Promise<number> {
  const env = process.env;
  const inspectorPort = Number(env.MXPOST_DEV_INSPECTOR_PORT ?? 8025);
  const redis = await startRedisServer({ dir: resolve(DATA_DIR, 'redis'), persist: true });
  const inspector = await startInspector({ host: '127.0.0.1', port: inspectorPort, write: (t) => process.stdout.write(t) });

  const devEnv: NodeJS.ProcessEnv = {
    MXPOST_SMTP_HOST: '127.0.0.1',
    MXPOST_HTTP_HOST: '127.0.0.1',
    MXPOST_HOSTNAME: 'mxpost.localhost',
    MXPOST_RETRY_DELAY_MS: '2000',
    MXPOST_SHUTDOWN_TIMEOUT_MS: '5000',
    // The console is on in development, with a token made for this run.
    MXPOST_ADMIN_TOKEN: randomBytes(18).toString('base64url'),
    ...env,
    MXPOST_REDIS_URL: redis.url,
  };
  const stopAll = async () => {
    await inspector.close();
    await redis.stop();
  };
  let settings, routes;
  try {
    settings = loadSettings(devEnv);
    routes = parseRoutes(`domains:\n  ${JSON.stringify(opts.domain)}:\n    url: ${inspector.url}\n    recipients: ["*"]\n`, { source: 'mxpost dev', env: devEnv });
  } catch (err) {
    process.stderr.write(`mxpost: ${(err as Error).message}\n`);
    await stopAll();
    return EXIT_CONFIG;
  }
  const logger = createLogger({ level: settings.logLevel, pretty: true });
  const service = await startService({ settings, routes, role: 'serve', logger, env: devEnv }).catch(async (err: Error) => {
    logger.fatal({ err }, 'cannot start');
    await stopAll();
    return null;
  });
  if (!service) return 1;

  const smtp = `${service.smtp!.address}:${service.smtp!.port}`;
  process.stdout.write(
    [
      '',
      `mxpost dev is running. Mail for any address @${opts.domain} is delivered to the inspector below.`,
      `  SMTP       ${smtp}`,
      `  inspector  http://127.0.0.1:${inspector.address.port}/messages`,
      `  console    http://${service.http.address}:${service.http.port}/console/ (token ${settings.adminToken})`,
      `  Redis      ${redis.url} (data in ${DATA_DIR}/redis)`,
      `  try:       swaks --server ${smtp} --to hello@${opts.domain} --from you@example.com`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  return waitForSignals(service, logger, stopAll);
}
