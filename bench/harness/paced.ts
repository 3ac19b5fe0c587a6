// A paced SMTP client for the end-to-end measure: smtp-source sends as fast as
// it can, but latency means something only at a steady rate below the maximum.
// One message per connection, as smtp-source sends them; a new one starts every
// 1/rate seconds whatever the others are doing (an open loop, so a slow server
// shows up as latency and backlog instead of a slower sender), at most
// `maxInFlight` at a time.
import { connect } from 'node:net';
import { HELO, MAIL_FROM, RCPT_TO } from './mail.ts';

export interface Sent {
  /** The queue id from `250 … queued as ID`, or null when the reply was not 250. */
  readonly queueId: string | null;
  readonly code: number;
  /** When the reply to the final dot arrived, on process.hrtime's clock (ns). */
  readonly repliedAt: bigint;
}

export interface PacedResult {
  readonly sent: readonly Sent[];
  /** Starts skipped because maxInFlight connections were still open: the server fell behind. */
  readonly skipped: number;
  readonly seconds: number;
}

/** CRLF message bytes as DATA sends them: dot-stuffed, ending with the final dot. */
export function dataBytes(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(/\r\n\./g, '\r\n..');
  return Buffer.from(`${text.startsWith('.') ? '.' : ''}${text}${text.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1');
}

export async function sendPaced(options: { port: number; data: Buffer; rate: number; seconds: number; maxInFlight?: number }): Promise<PacedResult> {
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const maxInFlight = options.maxInFlight ?? 100;
  const sent: Promise<Sent>[] = [];
  let inFlight = 0;
  let skipped = 0;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    // Each start is due at start + i/rate; sleeping to that time (not for 1/rate)
    // keeps timer drift from lowering the rate.
    const due = start + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    inFlight++;
    sent.push(sendOne(options.port, options.data).finally(() => inFlight--));
  }
  const results = await Promise.all(sent);
  return { sent: results, skipped, seconds: (performance.now() - start) / 1000 };
}

/** One SMTP transaction on a new connection; never rejects (a failure is a code other than 250). */
function sendOne(port: number, data: Buffer): Promise<Sent> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const steps = [`EHLO ${HELO}\r\n`, `MAIL FROM:<${MAIL_FROM}>\r\n`, `RCPT TO:<${RCPT_TO}>\r\n`, 'DATA\r\n', data, 'QUIT\r\n'];
    let step = 0;
    let buffer = '';
    let result: Sent | null = null;
    const finish = (value: Sent) => {
      result ??= value;
    };
    socket.setTimeout(60_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        // A multi-line reply ("250-…") goes on until its last line ("250 …").
        if (line[3] === '-') continue;
        const code = Number(line.slice(0, 3));
        const at = process.hrtime.bigint();
        if (step === 5) {
          // The reply to the final dot.
          finish({ code, repliedAt: at, queueId: code === 250 ? (/queued as (\S+)/.exec(line)?.[1] ?? null) : null });
        } else if (code >= 400) {
          finish({ code, repliedAt: at, queueId: null });
          socket.end('QUIT\r\n');
          return;
        }
        if (step < steps.length) socket.write(steps[step++]!);
        else socket.end();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(result ?? { code: 0, repliedAt: process.hrtime.bigint(), queueId: null }));
  });
}
