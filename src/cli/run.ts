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

/**
 * Runs a service role until SIGTERM or SIGINT. The routes file is reloaded when
 * it changes and on SIGHUP; the service logs how each reload went.
 */
export async function runService(role: Role): Promise<number> {
  const config = await loadConfiguration(process.env);
  if (!config) return EXIT_CONFIG;
  const logger = createLogger({ level: config.settings.logLevel });
  const service = await startService({ ...config, role, logger, env: process.env, watchRoutes: {} }).catch((err: Error) => {
    logger.fatal({ err }, 'cannot start');
    return null;
  });
  if (!service) return 1;
  return waitForSignals(service, logger);
}

export function waitForSignals(service: Service, logger: Logger, onStopped?: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    // The service has logged a rejected file, as it does for a change of the file.
    const reload = () => void service.reloadRoutes().catch(() => undefined);
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
