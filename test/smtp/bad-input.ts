import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEndpoint, type ReceivedRequest } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { Wire } from './harness.ts';

/**
 * The bad-input suite (test/e2e/hardening-bad-input-*.test.ts): each case runs
 * against the real server and asserts the reply (code and enhanced code), then a
 * well-behaved client must still get its message accepted. The defaults apply,
 * except the timeouts, shortened to keep the suite quick.
 */
export interface BadInput {
  readonly port: number;
  readonly requests: () => ReceivedRequest[];
  withSubject(subject: string): ReceivedRequest[];
  /** "code enhanced-code" of a reply, or "closed". */
  code(reply: { code: number; text: string } | null | undefined): string;
  /** A fresh session after EHLO. */
  session(): Promise<Wire>;
  /** A session at the 354 of DATA. */
  inData(to?: string): Promise<Wire>;
  /** Sends a whole message as raw bytes; returns the reply to the final dot. */
  data(message: string | Buffer): Promise<string>;
  /** The first delivery with this subject, once it arrives. */
  delivered(subject: string): Promise<any>;
  /** A command on a fresh session (after EHLO unless `ehlo` is false). */
  command(line: string | Buffer, ehlo?: boolean): Promise<string>;
}

export type BadInputCase = [name: string, run: (input: BadInput) => Promise<void>];

export function badInputSuite(title: string, cases: readonly BadInputCase[]): void {
  describe(title, () => {
    let redis: Awaited<ReturnType<typeof startTestRedis>>;
    let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
    let mxpost: Awaited<ReturnType<typeof startMxpost>>;
    let input: BadInput;

    before(async () => {
      redis = await startTestRedis();
      endpoint = await startEndpoint();
      mxpost = await startMxpost({
        redisUrl: redis.url,
        routes: `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`,
        env: { MXPOST_MAX_MESSAGE_BYTES: String(4 * 1024 * 1024), MXPOST_IDLE_TIMEOUT_MS: '1500', MXPOST_DATA_TIMEOUT_MS: '2000', MXPOST_DATA_MIN_RATE: '100' },
      });
      input = helpers(mxpost.smtpPort, () => endpoint.requests);
    });
    after(async () => {
      await mxpost?.close();
      await endpoint?.close();
      await redis?.dispose();
    });

    for (const [name, run] of cases) {
      test(name, async () => {
        await run(input);
        const check = await sendMail(input.port, { from: 'alice@sender.test', to: ['healthy@example.test'], message: testMessage({ subject: 'still serving' }) });
        assert.equal(check.data?.code, 250, 'the server still serves a well-behaved client');
      });
    }
  });
}

function helpers(port: number, requests: () => ReceivedRequest[]): BadInput {
  const withSubject = (subject: string) => requests().filter((r) => r.json?.message?.subject === subject);
  const code = (reply: { code: number; text: string } | null | undefined) => (reply ? `${reply.code} ${/^\d\.\d{1,3}\.\d{1,3}/.exec(reply.text)?.[0] ?? ''}`.trim() : 'closed');
  const session = async () => {
    const wire = await Wire.open(port);
    assert.equal((await wire.send('EHLO client.sender.test'))?.code, 250);
    return wire;
  };
  const inData = async (to = 'bad@example.test') => {
    const wire = await session();
    assert.equal((await wire.send('MAIL FROM:<alice@sender.test>'))?.code, 250);
    assert.equal((await wire.send(`RCPT TO:<${to}>`))?.code, 250);
    assert.equal((await wire.send('DATA'))?.code, 354);
    return wire;
  };
  return {
    port,
    requests,
    withSubject,
    code,
    session,
    inData,
    async data(message) {
      const wire = await inData();
      const reply = await wire.send(Buffer.concat([Buffer.isBuffer(message) ? message : Buffer.from(message, 'latin1'), Buffer.from('\r\n.\r\n')]));
      wire.close();
      return code(reply);
    },
    async delivered(subject) {
      await waitUntil(() => withSubject(subject).length > 0);
      return withSubject(subject)[0]!.json;
    },
    async command(line, ehlo = true) {
      const wire = ehlo ? await session() : await Wire.open(port);
      const reply = await wire.send(line);
      wire.close();
      return code(reply);
    },
  };
}
