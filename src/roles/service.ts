import type { AddressInfo } from 'node:net';
import { createAuthenticator } from '../auth/authenticate.ts';
import { createResolver } from '../auth/resolver.ts';
import { loadRoutes, parseRoutes, unreadableRoutes, type Routes } from '../config/routes.ts';
import type { Settings } from '../config/settings.ts';
import { watchContent, type FileWatcher } from '../config/watch.ts';
import { createConsole } from '../console/handler.ts';
import { createDeliveryAdmin } from '../delivery/admin.ts';
import { createAttemptLog } from '../delivery/attempts.ts';
import { createHealthReader } from '../delivery/health.ts';
import { createMessageAdmin, createMessageIndex } from '../delivery/messages.ts';
import { createDeliveryWorker, type DeliveryWorker } from '../delivery/worker.ts';
import { createAdminApi } from '../http/admin.ts';
import { createMetricsHandler } from '../http/metrics.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createTracing } from '../observability/tracing.ts';
import { createHttpServer, type ReadinessCheck } from '../http/server.ts';
import type { Logger } from '../observability/logger.ts';
import { createDurability, createRedisConnection, readRedisMemory } from '../queue/connection.ts';
import { createDeliveryQueue } from '../queue/deliveries.ts';
import { createOverloadGate } from '../smtp/overload.ts';
import { createReceiver, type Receiver } from '../smtp/receiver.ts';
import { createRecipientCallbacks } from '../routing/callback.ts';
import { createSyncDelivery } from '../routing/sync.ts';
import { createAcceptor } from './accept.ts';
import { VERSION } from './version.ts';

/** `serve` runs both halves in one process; Kubernetes can scale `receiver` and `worker` apart. */
export type Role = 'serve' | 'receiver' | 'worker';

export interface Service {
  /** Where SMTP listens; null for the worker role. */
  readonly smtp: AddressInfo | null;
  readonly http: AddressInfo;
  /**
   * Re-reads the routes file (SIGHUP); a bad file keeps the routes in force, is
   * logged as `routes-reload-failed`, and rejects.
   */
  reloadRoutes(): Promise<Routes>;
  /** Drains and stops everything, within the shutdown timeout. Idempotent. */
  close(): Promise<void>;
}

export async function startService(options: {
  settings: Settings;
  role: Role;
  routes: Routes;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /**
   * Reload `settings.routesPath` whenever its content changes (config/watch.ts),
   * polling at this interval. Only for routes that were loaded from that file:
   * `mxpost dev` builds its routes from text and has nothing to watch.
   * @defaultValue no watching
   */
  watchRoutes?: { intervalMs?: number };
}): Promise<Service> {
  const { settings, role, logger } = options;
  let routes = options.routes;
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  const checks: ReadinessCheck[] = [];
  const metrics = createMetrics();
  const tracing = createTracing(options.env, VERSION);

  // SIGHUP and a change of the file reload through here, one at a time, so that
  // an older read never lands after a newer one. A bad file keeps the routes in
  // force: sessions and deliveries go on with them, and the problems are logged
  // where the operator looks, at the line and column RoutesError gives.
  let reloads: Promise<unknown> = Promise.resolve();
  function reload(trigger: 'signal' | 'change', read: () => Promise<Routes>): Promise<Routes> {
    const done = reloads.then(async () => {
      try {
        const next = await read();
        routes = next;
        metrics.routesReloads.inc({ result: 'ok' });
        logger.info({ action: 'routes-reloaded', trigger, file: settings.routesPath, domains: [...next.domains.keys()] }, 'routes reloaded');
        return next;
      } catch (err) {
        metrics.routesReloads.inc({ result: 'failed' });
        logger.error({ action: 'routes-reload-failed', trigger, file: settings.routesPath, problems: (err as Error).message }, 'routes file rejected; the previous routes stay in force');
        throw err;
      }
    });
    reloads = done.catch(() => undefined);
    return done;
  }
  // Started before anything else, so that it reads the file as close as possible
  // to when the caller loaded it: a change in between would go unnoticed until the next one.
  const watcher: FileWatcher | null = options.watchRoutes
    ? watchContent(settings.routesPath, {
        intervalMs: options.watchRoutes.intervalMs,
        // The text that settled is the text parsed: reading the file again could
        // catch a writer that has started on the next version.
        onChange: (content) => void reload('change', async () => parseRoutes(content.toString('utf8'), { source: settings.routesPath, env: options.env })).catch(() => undefined),
        onError: (err) => void reload('change', () => Promise.reject(unreadableRoutes(settings.routesPath, err))).catch(() => undefined),
      })
    : null;

  let receiver: Receiver | null = null;
  let worker: DeliveryWorker | null = null;
  const redisError = (err: Error) => logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'Redis connection error');

  // Every role has the producer side: the receiver enqueues with it, and the
  // admin API reads and replays deliveries through it.
  const connection = createRedisConnection(settings.redisUrl, 'producer', role);
  connection.on('error', redisError);
  // What a 250 waits for in Redis, re-read from Redis at each (re)connect; it is
  // also where a Redis that may evict BullMQ's keys is reported.
  const durability = createDurability(connection, {
    mode: settings.durability,
    replicas: settings.redisMinReplicas,
    report: (plan, facts) => {
      if (facts.maxmemoryPolicy !== 'noeviction') {
        logger.warn({ action: 'redis-check', maxmemoryPolicy: facts.maxmemoryPolicy }, `Redis runs maxmemory-policy ${facts.maxmemoryPolicy}: it may evict queued deliveries; BullMQ requires noeviction`);
      }
      const fields = { action: 'redis-durability', durability: settings.durability, plan: plan.kind, replicas: plan.replicas, redis: facts.version, aof: facts.aofEnabled, appendfsync: facts.appendfsync };
      if (plan.warning) logger.warn(fields, plan.warning);
      else logger.info(fields, `a 250 waits for: ${plan.kind}${plan.replicas ? ` and ${plan.replicas} replicas` : ''}`);
    },
  });
  const queue = createDeliveryQueue({ connection, prefix: settings.redisPrefix, retentionMs: settings.retentionMs, onError: redisError, durability });
  const attempts = createAttemptLog(connection, settings.redisPrefix, settings.retentionMs);
  const deliveries = createDeliveryAdmin(queue, attempts, createHealthReader(connection, settings.redisPrefix));
  const messageIndex = createMessageIndex({ redis: connection, prefix: settings.redisPrefix, retentionMs: settings.retentionMs });
  const messages = createMessageAdmin(messageIndex, deliveries);
  checks.push({ name: 'redis', check: async () => connection.status === 'ready' && (await connection.ping()) === 'PONG' });
  // The routes were validated before anything started; a reload that fails keeps them.
  checks.push({ name: 'routes', check: async () => routes.domains.size > 0 });
  let smtpListening = false;

  if (role !== 'worker') {
    // One resolver, and so one DNS cache, for every SMTP session of the process.
    const resolver = createResolver({ servers: settings.dnsServers, timeoutMs: settings.dnsTimeoutMs });
    const authenticate = createAuthenticator({
      resolver,
      authservId: settings.authservId,
      hostname: settings.hostname,
      timeoutMs: settings.authTimeoutMs,
      onError: (check, err) => logger.error({ err, check }, 'authentication check failed; its verdict reads temperror'),
    });
    const overload = createOverloadGate({
      sample: async () => ({ backlog: await queue.backlog(), ...(await readRedisMemory(connection)) }),
      maxBacklog: settings.maxBacklog,
      memoryLimitPercent: settings.redisMemoryLimitPercent,
      onSampleError: (err) => logger.debug({ err: { message: err.message } }, 'no load sample; transactions are not held back'),
    });
    // Synchronous routes POST from the receiver, with the worker's address policy.
    const syncDelivery = createSyncDelivery({ userAgent: `mxpost/${VERSION}`, allowPrivateEndpoints: settings.allowPrivateEndpoints });
    const recipientCallbacks = createRecipientCallbacks({ allowPrivateEndpoints: settings.allowPrivateEndpoints });
    cleanups.push({ name: 'sync delivery', run: () => syncDelivery.close() }, { name: 'recipient callbacks', run: () => recipientCallbacks.close() });
    receiver = createReceiver({
      host: settings.smtpHost,
      port: settings.smtpPort,
      hostname: settings.hostname,
      limits: settings.smtpLimits,
      tls: settings.tls,
      proxy: { mode: settings.proxyProtocol, trusted: settings.proxyTrusted },
      closeTimeoutMs: settings.shutdownTimeoutMs,
      routes: () => routes,
      load: () => overload.check(),
      recipientCallbacks,
      accept: createAcceptor({
        queue,
        enqueueTimeoutMs: settings.enqueueTimeoutMs,
        authenticate,
        authservId: settings.authservId,
        // Not awaited: the index is for reading back, and the 250 does not wait for it.
        onAccepted: (accepted) => void messageIndex.recordAccepted(accepted).catch((err: Error) => logger.warn({ err: { message: err.message }, queueId: accepted.queueId }, 'message not indexed')),
        sync: syncDelivery,
      }),
      logger,
      metrics,
      tracing,
    });
  }

  if (role !== 'receiver') {
    const workerConnection = createRedisConnection(settings.redisUrl, 'worker', 'worker');
    workerConnection.on('error', redisError);
    worker = createDeliveryWorker({
      connection: workerConnection,
      prefix: settings.redisPrefix,
      concurrency: settings.deliveryConcurrency,
      timeoutMs: settings.deliveryTimeoutMs,
      schedule: { baseDelayMs: settings.retryDelayMs, maxDelayMs: settings.retryMaxDelayMs },
      allowPrivateEndpoints: settings.allowPrivateEndpoints,
      userAgent: `mxpost/${VERSION}`,
      routes: () => routes,
      attempts,
      load: (stored) => queue.load(stored),
      metrics,
      tracing,
      logger,
    });
    const w = worker;
    checks.push({ name: 'worker', check: async () => w.isRunning() && workerConnection.status === 'ready' });
    cleanups.push({ name: 'worker redis', run: () => closeRedis(workerConnection) });
  }
  cleanups.push({ name: 'queue', run: () => queue.close() }, { name: 'redis', run: () => closeRedis(connection) });

  // The console, like the admin API, exists only with a token (docs/console.md).
  const web = settings.adminToken ? createConsole({ token: settings.adminToken, deliveries, messages, version: VERSION }) : null;
  const admin = createAdminApi({ token: settings.adminToken, deliveries: () => deliveries, messages: () => messages, routes: () => routes, session: (req) => web?.hasSession(req) ?? false });
  const handlers = [...(web ? [web] : []), admin, createMetricsHandler(metrics, queue.queue)];
  const http = createHttpServer({ host: settings.httpHost, port: settings.httpPort, checks, handlers });
  const smtp = receiver ? await receiver.listen() : null;
  if (receiver) {
    smtpListening = true;
    checks.push({ name: 'smtp', check: async () => smtpListening });
  }
  const httpAddress = await http.listen();
  logger.info(
    { action: 'start', role, version: VERSION, smtp: smtp && `${smtp.address}:${smtp.port}`, http: `${httpAddress.address}:${httpAddress.port}`, domains: [...routes.domains.keys()] },
    'mxpost started',
  );

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    const deadline = Date.now() + settings.shutdownTimeoutMs;
    http.drain();
    logger.info({ action: 'shutdown', role }, 'draining: no new connections, finishing sessions and deliveries');
    // Order matters: no new mail first, then let the sessions in progress store
    // theirs, then let the attempts in flight finish, then the connections.
    const steps: { name: string; run: () => Promise<unknown> }[] = [];
    watcher?.close();
    smtpListening = false;
    if (receiver) steps.push({ name: 'receiver', run: () => receiver.close() });
    if (worker) {
      const w = worker;
      steps.push({
        name: 'worker',
        run: () => {
          // An attempt still running at the deadline is abandoned; its job's lock
          // lapses and another worker retries it: delivered at least once.
          let timer: NodeJS.Timeout | undefined;
          return Promise.race([
            w.close(),
            new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
          ]).finally(() => clearTimeout(timer));
        },
      });
    }
    steps.push(...cleanups, { name: 'http', run: () => http.close() }, { name: 'tracing', run: () => tracing.shutdown() });
    for (const step of steps) {
      try {
        await step.run();
      } catch (err) {
        logger.warn({ err, step: step.name }, 'shutdown step failed');
      }
    }
    logger.info({ action: 'stopped', role }, 'mxpost stopped');
  }

  return {
    smtp,
    http: httpAddress,
    reloadRoutes: () => reload('signal', () => loadRoutes(settings.routesPath, options.env)),
    close() {
      closing ??= close();
      return closing;
    },
  };
}

/**
 * QUIT, or a plain disconnect when QUIT cannot be sent: without an offline queue
 * QUIT fails on a connection that is (re)connecting, and that connection would
 * then go on reconnecting for ever and keep the process alive.
 */
async function closeRedis(redis: { quit(): Promise<unknown>; disconnect(): void }): Promise<void> {
  try {
    await redis.quit();
  } finally {
    redis.disconnect();
  }
}
