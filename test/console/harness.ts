import assert from 'node:assert/strict';
import { startEndpoint } from '../support/endpoint.ts';
import { startDnsServer } from '../support/dns-server.ts';
import { startMxpost } from '../support/mxpost.ts';
import { sendMail } from '../support/smtp-client.ts';
import { makeKey, sign } from '../auth/signing.ts';

export const TOKEN = 'console-test-token-0123456789';

/**
 * A whole mxpost for the console tests: real Redis (the caller's), a real DNS
 * server on loopback publishing SPF, DKIM and DMARC for sender.test, two real
 * endpoints (ok.test delivers; fail.test answers what its plan says), and mail
 * sent over real SMTP, DKIM-signed.
 */
export async function startConsoleHarness(redisUrl: string, options: { env?: Record<string, string> } = {}) {
  const key = makeKey('sender.test', 'sel');
  const dns = await startDnsServer({
    'sender.test': [{ TXT: 'v=spf1 ip4:127.0.0.1 -all' }],
    '_dmarc.sender.test': [{ TXT: 'v=DMARC1; p=reject' }],
    ...key.zone,
  });
  const ok = await startEndpoint();
  const failing = await startEndpoint();
  const down = await startEndpoint();
  down.setFallback(503);
  const mxpost = await startMxpost({
    redisUrl,
    env: { MXPOST_ADMIN_TOKEN: TOKEN, MXPOST_DNS_SERVERS: dns.address, ...options.env },
    routes: [
      'domains:',
      '  ok.test:',
      `    url: ${ok.url()}`,
      '    recipients: ["*"]',
      '  fail.test:',
      `    url: ${failing.url('/hook')}`,
      '    recipients: ["*"]',
      '  down.test:',
      `    url: ${down.url('/down')}`,
      '    recipients: ["*"]',
      '',
    ].join('\n'),
  });
  const base = `http://127.0.0.1:${mxpost.http.port}`;

  /** Sends one message; returns its queue id. */
  async function send(mail: Omit<Mail, 'to'> & { to?: string[] }): Promise<string> {
    const to = mail.to ?? ['someone@ok.test'];
    const raw = compose({ ...mail, to });
    const signed = await sign(raw, key);
    const result = await sendMail(mxpost.smtpPort, { from: 'alice@sender.test', to, message: signed.toString('utf8') });
    assert.equal(result.data?.code, 250, result.data?.text);
    return /queued as (\S+)/.exec(result.data!.text)![1]!;
  }

  async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(base + path, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
  }

  /** Polls the admin API until the delivery is in `state`. */
  async function waitForState(id: string, state: string, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await api(`/v1/deliveries/${id}`);
      if (body.state === state) return body;
      if (Date.now() > deadline) throw new Error(`delivery ${id} is ${body.state}, not ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  return {
    mxpost,
    base,
    ok,
    failing,
    down,
    dns,
    send,
    api,
    waitForState,
    async close() {
      await mxpost.close();
      await Promise.all([ok.close(), failing.close(), down.close(), dns.stop()]);
    },
  };
}

export type ConsoleHarness = Awaited<ReturnType<typeof startConsoleHarness>>;

export interface Part {
  readonly filename?: string;
  readonly contentType: string;
  readonly content: Buffer;
  /** Makes it an inline part that the HTML refers to as cid:<contentId>. */
  readonly contentId?: string;
}

export interface Mail {
  readonly subject: string;
  readonly to: string[];
  readonly from?: string;
  readonly html?: string;
  readonly text?: string;
  readonly headers?: string[];
  readonly parts?: Part[];
}

/** A message from alice@sender.test: text, or text and HTML as multipart/alternative, then any parts (multipart/mixed). */
export function compose(mail: Mail): string {
  const head = [
    `From: ${mail.from ?? 'Alice Example <alice@sender.test>'}`,
    `To: ${mail.to.join(', ')}`,
    `Subject: ${mail.subject}`,
    'Date: Sat, 28 Nov 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@sender.test>`,
    ...(mail.headers ?? []),
    'MIME-Version: 1.0',
  ];
  const text = mail.text ?? 'Hello there.';
  const body = mail.html
    ? [
        'Content-Type: multipart/alternative; boundary="b-alt"',
        '',
        '--b-alt',
        'Content-Type: text/plain; charset=utf-8',
        '',
        text,
        '--b-alt',
        'Content-Type: text/html; charset=utf-8',
        '',
        mail.html,
        '--b-alt--',
      ]
    : ['Content-Type: text/plain; charset=utf-8', '', text];
  if (!mail.parts?.length) return [...head, ...body, ''].join('\r\n');
  const parts = mail.parts.flatMap((p) => [
    '--b-mixed',
    `Content-Type: ${p.contentType}${p.filename ? `; name="${p.filename}"` : ''}`,
    'Content-Transfer-Encoding: base64',
    p.contentId ? `Content-ID: <${p.contentId}>` : `Content-Disposition: attachment; filename="${p.filename}"`,
    ...(p.contentId ? ['Content-Disposition: inline'] : []),
    '',
    ...(p.content.toString('base64').match(/.{1,76}/g) ?? []),
  ]);
  return [...head, 'Content-Type: multipart/mixed; boundary="b-mixed"', '', '--b-mixed', ...body, ...parts, '--b-mixed--', ''].join('\r\n');
}
