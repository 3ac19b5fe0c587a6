import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

export interface Reply {
  readonly code: number;
  /** All lines of the reply, without the code and separator. */
  readonly text: string;
}

/**
 * A plain SMTP client over a socket, for tests that need to see every reply
 * code and to stop half-way through a transaction (nodemailer hides both).
 */
export class SmtpDialog {
  readonly socket: Socket;
  #buffer = '';
  #waiters: ((reply: Reply | Error) => void)[] = [];
  #replies: Reply[] = [];
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#parse();
    });
    const fail = () => {
      this.#closed = true;
      for (const waiter of this.#waiters.splice(0)) waiter(new Error('connection closed'));
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  static async open(port: number, host = '127.0.0.1'): Promise<{ dialog: SmtpDialog; greeting: Reply }> {
    const socket = connect({ port, host });
    await once(socket, 'connect');
    const dialog = new SmtpDialog(socket);
    return { dialog, greeting: await dialog.reply() };
  }

  #parse(): void {
    for (;;) {
      const lines = this.#buffer.split('\r\n');
      let end = -1;
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i]!) || /^\d{3}$/.test(lines[i]!)) {
          end = i;
          break;
        }
      }
      if (end < 0) return;
      const replyLines = lines.slice(0, end + 1);
      this.#buffer = lines.slice(end + 1).join('\r\n');
      const reply = { code: Number(replyLines[0]!.slice(0, 3)), text: replyLines.map((l) => l.slice(4)).join('\n') };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(reply);
      else this.#replies.push(reply);
    }
  }

  reply(): Promise<Reply> {
    const queued = this.#replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.#waiters.push((r) => (r instanceof Error ? reject(r) : resolve(r))));
  }

  async command(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** Sends DATA, the message (dot-stuffed) and the final dot; returns the reply to the dot. */
  async data(message: string): Promise<Reply> {
    const go = await this.command('DATA');
    if (go.code !== 354) return go;
    this.socket.write(`${dotStuff(message)}\r\n.\r\n`);
    return this.reply();
  }

  async quit(): Promise<void> {
    if (this.#closed) return;
    await this.command('QUIT').catch(() => undefined);
    this.socket.destroy();
  }
}

export function dotStuff(message: string): string {
  return message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..').replace(/\r\n$/, '');
}

/** A small RFC 5322 message for tests. */
export function testMessage(fields: { from?: string; to?: string; subject?: string; body?: string; headers?: string[] } = {}): string {
  return [
    `From: ${fields.from ?? 'Alice Example <alice@sender.test>'}`,
    `To: ${fields.to ?? 'someone@example.test'}`,
    `Subject: ${fields.subject ?? 'Hello'}`,
    'Date: Sat, 28 Nov 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@sender.test>`,
    ...(fields.headers ?? []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    fields.body ?? 'Hello there.',
    '',
  ].join('\r\n');
}

/** One whole transaction; returns every reply so a test can assert on each. */
export async function sendMail(port: number, envelope: { from: string; to: string[]; message: string }) {
  const { dialog } = await SmtpDialog.open(port);
  try {
    const ehlo = await dialog.command('EHLO client.sender.test');
    const mail = await dialog.command(`MAIL FROM:<${envelope.from}>`);
    const rcpt: Reply[] = [];
    for (const to of envelope.to) rcpt.push(await dialog.command(`RCPT TO:<${to}>`));
    const data = rcpt.some((r) => r.code === 250) ? await dialog.data(envelope.message) : null;
    return { ehlo, mail, rcpt, data };
  } finally {
    await dialog.quit();
  }
}
