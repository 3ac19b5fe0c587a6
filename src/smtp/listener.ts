import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Logger } from '../observability/logger.ts';
import { canonicalIp, type TrustedProxies } from './addresses.ts';
import type { ReceiverSMTPServer } from './server.ts';
import type { ConnectionCounter } from './limits.ts';
import { readProxyHeader, type ProxyMode } from './proxy-protocol.ts';
import { replies, replyLine, type SmtpReplyError } from './replies.ts';

// How long a socket refused before its SMTP session may linger for the reply to flush.
const REFUSE_LINGER_MS = 1000;

/**
 * The listening socket, and what happens to a connection before smtp-server
 * gets it: the total connection limit, the PROXY header (read here, for v1 and
 * v2, instead of smtp-server's v1-only `useProxy`), then the per-client limit by
 * the real client address. smtp-server then gets the socket with that address
 * (`connect(socket, { remoteAddress })`), so SPF, limits, logs and the payload all
 * see the client and not the load balancer.
 */
export function createListener(options: {
  host: string;
  port: number;
  proxy: { mode: ProxyMode; trusted: TrustedProxies };
  /** How long a trusted proxy has to send the whole header. */
  proxyHeaderTimeoutMs: number;
  counter: ConnectionCounter;
  server: ReceiverSMTPServer;
  logger: Logger;
}) {
  const { counter, logger, proxy } = options;
  // Released when smtp-server reports the session closed (its onClose): after
  // STARTTLS smtp-server removes every listener from the original socket, so a
  // 'close' listener there would never run.
  const releases = new Map<string, () => void>();
  const pending = new Set<Socket>();

  const refuse = (socket: Socket, reply: SmtpReplyError | null, fields: Record<string, unknown>) => {
    logger.info({ action: 'connection-refused', code: reply?.responseCode ?? null, ...fields }, 'connection refused');
    if (reply) socket.end(replyLine(reply));
    else socket.destroy();
    setTimeout(() => socket.destroy(), REFUSE_LINGER_MS).unref();
  };

  const hand = (socket: Socket, releaseSocket: () => void, address: string, port: number) => {
    const releaseClient = counter.admitClient(address);
    if (!releaseClient) {
      releaseSocket();
      return refuse(socket, replies.tooManyConnectionsFromClient(), { client: address, limit: 'per-client' });
    }
    const id = BigInt(`0x${randomBytes(10).toString('hex')}`).toString(32).padStart(16, '0');
    releases.set(id, () => {
      releaseClient();
      releaseSocket();
    });
    options.server.connect(socket, { id, remoteAddress: address, remotePort: port });
  };

  const net = createServer((socket) => {
    // Until smtp-server takes the socket, its errors (a reset) are ours to swallow.
    socket.on('error', () => socket.destroy());
    const releaseSocket = counter.admitSocket();
    const peer = canonicalIp(socket.remoteAddress ?? '');
    if (!releaseSocket) return refuse(socket, replies.tooManyConnections(), { client: peer, limit: 'total' });
    if (proxy.mode === 'off') return hand(socket, releaseSocket, peer, socket.remotePort ?? 0);
    if (!proxy.trusted.has(peer)) {
      releaseSocket();
      return refuse(socket, replies.proxyRequired(), { peer, reason: 'not a trusted proxy' });
    }
    pending.add(socket);
    readProxyHeader(socket, proxy.mode, options.proxyHeaderTimeoutMs).then(
      (header) => {
        pending.delete(socket);
        if (socket.destroyed) return releaseSocket();
        if (header.kind === 'local') hand(socket, releaseSocket, peer, socket.remotePort ?? 0);
        else hand(socket, releaseSocket, header.address, header.port);
      },
      (err: Error) => {
        pending.delete(socket);
        releaseSocket();
        // A trusted proxy that sends no valid header is misconfigured, or not the
        // proxy: the spec says to drop the connection without a word.
        refuse(socket, null, { peer, reason: err.message });
      },
    );
  });
  net.on('error', (err) => logger.error({ err }, 'SMTP listener error'));

  return {
    /** Called from smtp-server's onClose for every session it had. */
    closed(sessionId: string) {
      releases.get(sessionId)?.();
      releases.delete(sessionId);
    },
    async listen(): Promise<AddressInfo> {
      net.listen(options.port, options.host);
      await once(net, 'listening');
      return net.address() as AddressInfo;
    },
    /**
     * Stops accepting at once; sockets still waiting for their PROXY header go too.
     * Sessions in progress are the receiver's to drain.
     */
    stop(): void {
      for (const socket of pending) socket.destroy();
      if (net.listening) net.close();
    },
  };
}
