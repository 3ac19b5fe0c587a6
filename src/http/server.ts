import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReadinessCheck {
  readonly name: string;
  /** Resolves true when this part is ready; must answer quickly. */
  readonly check: () => Promise<boolean>;
}

/**
 * The process's HTTP side: `/healthz` answers while the process is alive,
 * `/readyz` while every check passes and the process is not draining, so that
 * Kubernetes stops sending it traffic before it stops.
 */
/** Answers the requests it knows (returns true), leaves the others (false). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export function createHttpServer(options: { host: string; port: number; checks: readonly ReadinessCheck[]; handlers?: readonly RequestHandler[] }) {
  let draining = false;
  const server: Server = createServer((req, res) => {
    void dispatch(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"internal error"}\n');
    });
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const handler of options.handlers ?? []) if (await handler(req, res)) return;
    builtIn(req, res);
  }

  function builtIn(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
      return;
    }
    if (path === '/readyz') {
      void readiness().then((body) => {
        res.writeHead(body.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
  }

  async function readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const results = await Promise.all(
      options.checks.map(async ({ name, check }) => {
        const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false).unref());
        return [name, await Promise.race([check().catch(() => false), timeout])] as const;
      }),
    );
    const checks = Object.fromEntries([...results, ['draining', !draining]]);
    return { ready: !draining && results.every(([, ok]) => ok), checks };
  }

  let closing: Promise<void> | null = null;
  return {
    async listen(): Promise<AddressInfo> {
      server.listen(options.port, options.host);
      await once(server, 'listening');
      return server.address() as AddressInfo;
    },
    /** Readiness turns false at once; the port stays open for probes until close(). */
    drain(): void {
      draining = true;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
