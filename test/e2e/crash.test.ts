import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/queue/redis-server.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { spawnMxpost, type MxpostProcess } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { sleep, Wire } from '../smtp/harness.ts';

const MESSAGES = 300;
const SENDERS = 16;
const KILLS = 4;

// The receiver is killed with SIGKILL at random moments while many sessions
// send, and restarted on the same port; senders retry as an MTA does (a
// connection lost or a 4xx means "try again"). Every message that got a 250 must
// reach the endpoint. A message stored just before a kill, whose 250 never
// reached the sender, is sent again and so delivered twice: RFC 5321 accepts
// such duplicates; they are counted and reported here.
describe('crashes of the receiver', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let dir: string;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
    dir = mkdtempSync(join(tmpdir(), 'mxpost-crash-'));
    writeFileSync(join(dir, 'routes.yaml'), `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`);
  });
  after(async () => {
    await endpoint?.close();
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One attempt at one message; true only for a 250 to DATA. */
  async function attempt(port: number, subject: string): Promise<boolean> {
    let wire: Wire | null = null;
    try {
      wire = await Wire.open(port);
      if (wire.replies[0]?.code !== 220) return false;
      for (const line of ['EHLO client.sender.test', 'MAIL FROM:<alice@sender.test>', `RCPT TO:<crash@example.test>`]) {
        if ((await wire.send(line, 5000))?.code !== 250) return false;
      }
      if ((await wire.send('DATA', 5000))?.code !== 354) return false;
      return (await wire.send(`${testMessage({ subject })}\r\n.`, 5000))?.code === 250;
    } catch {
      return false;
    } finally {
      wire?.close();
    }
  }

  test(`every one of ${MESSAGES} acknowledged messages is delivered through ${KILLS} SIGKILLs of the receiver`, async (t) => {
    const prefix = `crash-${Date.now()}`;
    const port = await freePort();
    const env = {
      MXPOST_ROUTES: join(dir, 'routes.yaml'),
      MXPOST_REDIS_URL: redis.url,
      MXPOST_REDIS_PREFIX: prefix,
      MXPOST_SMTP_PORT: String(port),
      // Restarts load the modules from Node's compile cache: about twice as fast.
      NODE_COMPILE_CACHE: join(dir, 'compile-cache'),
    };
    let receiver: MxpostProcess = await spawnMxpost('receiver', env);
    const worker = await startMxpost({ redisUrl: redis.url, routes: `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`, role: 'worker', prefix });

    const acked = new Set<string>();
    let attempts = 0;
    const queue = Array.from({ length: MESSAGES }, (_, i) => `crash ${i}`);
    const senders = Array.from({ length: SENDERS }, async () => {
      for (let subject = queue.shift(); subject !== undefined; subject = queue.shift()) {
        for (;;) {
          attempts++;
          if (await attempt(port, subject)) break;
          await sleep(100);
        }
        acked.add(subject);
      }
    });
    let sending = true;
    const all = Promise.all(senders).finally(() => (sending = false));

    // Spread the kills over the run whatever the machine's speed: the k-th comes
    // once about k/(KILLS+1) of the messages are through, at a random moment after.
    let kills = 0;
    try {
      while (sending && kills < KILLS) {
        const threshold = ((kills + 1) * MESSAGES) / (KILLS + 1);
        await waitUntil(() => acked.size >= threshold || !sending, 60_000);
        await sleep(Math.random() * 150);
        if (!sending) break;
        await receiver.stop('SIGKILL');
        kills++;
        await sleep(Math.random() * 100);
        receiver = await spawnMxpost('receiver', env);
      }
      await all;
      assert.equal(acked.size, MESSAGES);

      const count = (subject: string) => endpoint.requests.filter((r) => r.json?.message?.subject === subject).length;
      await waitUntil(() => [...acked].every((s) => count(s) >= 1), 60_000);
      await sleep(500);
      const duplicates = [...acked].reduce((sum, s) => sum + count(s) - 1, 0);
      t.diagnostic(`${MESSAGES} messages, ${attempts} attempts, ${kills} SIGKILLs: all delivered, ${duplicates} delivered twice (stored, but the 250 never reached the client)`);
      assert.equal(kills, KILLS, 'every kill came while messages were still being sent');
      assert.ok(duplicates <= kills * SENDERS, 'at most one duplicate per session cut by a kill');
    } finally {
      await receiver.stop('SIGKILL');
      await worker.close();
    }
  });
});
