import { loadRoutes, type Routes } from '../config/routes.ts';
import { loadSettings, type Settings } from '../config/settings.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { startService, type Role, type Service } from '../roles/service.ts';

/** sysexits' EX_CONFIG: the configuration is wrong, restarting will not help. */
export const EXIT_CONFIG = 78;

/** Loads settings and routes; prints every problem and returns null when either is wrong. */
export async function loadConfiguration(env: NodeJS.ProcessEnv, routesPath?: string): Promise<{ settings: Settings; routes: Routes } | null> {
  try {
    const settings = loadSettings(routesPath ? { ...env, MXPOST_ROUTES: routesPath } : env);
    const routes = await loadRoutes(settings.routesPath, env);
    return { settings, routes };
  } catch (err) {
    process.stderr.write(`mxpost: ${(err as Error).message}\n`);
    return null;
  }
}

/** Runs a service role until SIGTERM or SIGINT; SIGHUP reloads the routes file. */
export async function runService(role: Role): Promise<number> {
  const config = await loadConfiguration(process.env);
  if (!config) return EXIT_CONFIG;
  const logger = createLogger({ level: config.settings.logLevel });
  const service = await startService({ ...config, role, logger, env: process.env }).catch((err: Error) => {
    logger.fatal({ err }, 'cannot start');
    return null;
  });
  if (!service) return 1;
  return waitForSignals(service, logger);
}

export function waitForSignals(service: Service, logger: Logger, onStopped?: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const reload = () => {
      service.reloadRoutes().catch((err: Error) => logger.error({ action: 'routes-reload-failed', problems: err.message }, 'routes file rejected; the previous routes stay in force'));
    };
    const stop = (signal: NodeJS.Signals) => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      // A second signal while draining means "now".
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      logger.info({ action: 'signal', signal }, `${signal} received`);
      void service
        .close()
        .then(() => onStopped?.())
        .then(
          () => resolve(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            resolve(1);
          },
        )
        .finally(() => process.removeListener('SIGHUP', reload));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', reload);
  });
}
