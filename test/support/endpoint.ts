import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { payloadProblems } from './payload-validation.ts';

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: any;
  readonly at: number;
}

/** How the endpoint answers one request: a status, headers, a delay, or never. */
export interface PlannedReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly delayMs?: number;
  /** Never answer: the request hangs until the client gives up. */
  readonly hang?: boolean;
}

/**
 * A real HTTP webhook endpoint on loopback. It answers each request with the
 * next entry of `plan` (a status or a PlannedReply), then with `fallback`
 * (200 unless changed), and records every request.
 *
 * Every body is validated against docs/payload.schema.json: an invalid payload
 * is thrown as an uncaught error, which fails the test that is running, unless
 * `onInvalidPayload` takes it.
 */
export async function startEndpoint(
  plan: (number | PlannedReply)[] = [],
  options: { onInvalidPayload?: (problems: string[], body: string) => void } = {},
) {
  const onInvalidPayload =
    options.onInvalidPayload ??
    ((problems: string[]) => {
      throw new Error(`the endpoint received a payload that does not match docs/payload.schema.json:\n  ${problems.join('\n  ')}`);
    });
  const requests: ReceivedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const statuses = [...plan];
  let fallback: number | PlannedReply = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* recorded as text */
      }
      requests.push({ path: req.url ?? '/', headers: req.headers, body, json, at: Date.now() });
      const next = statuses.shift() ?? fallback;
      const reply: PlannedReply = typeof next === 'number' ? { status: next } : next;
      const status = reply.status ?? 200;
      const answer = () => res.writeHead(status, { 'content-type': 'text/plain', ...reply.headers }).end(status < 300 ? 'ok' : `failing with ${status}`);
      if (!reply.hang) setTimeout(answer, reply.delayMs ?? 0);
      for (const w of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      // Last, so that the request is answered and recorded whatever happens here.
      const problems = payloadProblems(json);
      if (problems.length > 0) onInvalidPayload(problems, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/inbound') => `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    /** Queues more planned replies. */
    plan: (...replies: (number | PlannedReply)[]) => statuses.push(...replies),
    /** How requests are answered once the plan is used up. */
    setFallback: (reply: number | PlannedReply) => (fallback = reply),
    /** Resolves once `count` requests arrived; rejects after `timeoutMs`. */
    waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`endpoint got ${requests.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(requests)) });
      });
    },
    close: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
}
