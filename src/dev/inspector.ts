import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { styleText } from 'node:util';

/**
 * The development webhook: receives deliveries like an application would,
 * prints each one readably, and keeps the last ones for `GET /messages`.
 */
export interface Inspector {
  readonly url: string;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

const KEEP = 100;
const MAX_BODY = 64 * 1024 * 1024;

export async function startInspector(options: { host: string; port: number; write: (text: string) => void }): Promise<Inspector> {
  const received: { id: string; payload: unknown }[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/messages') {
      return json(res, 200, received.map(({ payload }) => payload));
    }
    const one = /^\/messages\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && one) {
      const found = received.find((r) => r.id === decodeURIComponent(one[1]!));
      return found ? json(res, 200, found.payload) : json(res, 404, { error: 'no such delivery' });
    }
    if (req.method !== 'POST') return json(res, 404, { error: 'POST deliveries here; GET /messages lists them' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return json(res, 400, { error: 'body is not JSON' });
      }
      const id = String(payload.id ?? req.headers['webhook-id'] ?? received.length);
      received.push({ id, payload });
      if (received.length > KEEP) received.shift();
      options.write(formatDelivery(payload, `${address.address}:${address.port}`));
      json(res, 200, { ok: true });
    });
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    address,
    url: `http://${address.address}:${address.port}/inbound`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
}

type Address = { name?: string; address?: string };
const addr = (a: Address) => (a.name ? `${a.name} <${a.address ?? ''}>` : (a.address ?? ''));
const list = (v: unknown) => (Array.isArray(v) && v.length > 0 ? (v as Address[]).map(addr).join(', ') : '—');

/** A delivery as a person reads it: who, to whom, what, and where the whole JSON is. */
export function formatDelivery(payload: Record<string, unknown>, inspectorHost: string): string {
  const p = payload as {
    id?: string;
    receivedAt?: string;
    envelope?: { mailFrom?: string; rcptTo?: string[]; remoteAddress?: string; helo?: string };
    route?: { domain?: string; recipient?: string; tag?: string | null };
    message?: { subject?: string; from?: unknown; to?: unknown; cc?: unknown; text?: string | null; html?: string | null; attachments?: { filename?: string | null; contentType?: string; size?: number }[] };
  };
  const m = p.message ?? {};
  const e = p.envelope ?? {};
  const row = (label: string, value: string) => `  ${styleText('dim', label.padEnd(12))}${value}`;
  const text = (m.text ?? '').trimEnd().split('\n');
  const shown = text.slice(0, 15).map((l) => `  ${styleText('dim', '│')} ${l}`);
  if (text.length > 15) shown.push(`  ${styleText('dim', `│ … ${text.length - 15} more lines`)}`);
  return [
    '',
    styleText(['bold', 'cyan'], `━━ delivery ${p.id ?? '?'} ━━ ${p.receivedAt ?? ''}`),
    row('subject', styleText('bold', m.subject || '(no subject)')),
    row('from', list(m.from)),
    row('to', list(m.to)),
    ...(Array.isArray(m.cc) && m.cc.length ? [row('cc', list(m.cc))] : []),
    row('envelope', `MAIL FROM <${e.mailFrom ?? ''}> RCPT TO ${(e.rcptTo ?? []).map((r) => `<${r}>`).join(' ')}`),
    row('client', `${e.remoteAddress ?? '?'} (HELO ${e.helo ?? '?'})`),
    row('route', `${p.route?.domain ?? '?'} → ${p.route?.recipient ?? '?'}${p.route?.tag ? ` (tag ${p.route.tag})` : ''}`),
    ...(m.attachments?.length ? [row('attachments', m.attachments.map((a) => `${a.filename ?? '(unnamed)'} ${a.contentType ?? ''} ${a.size ?? 0} B`).join('; '))] : []),
    ...(m.html ? [row('html', `${m.html.length} characters`)] : []),
    row('text', ''),
    ...shown,
    row('json', `curl -s http://${inspectorHost}/messages/${encodeURIComponent(p.id ?? '')}`),
    '',
  ].join('\n');
}
