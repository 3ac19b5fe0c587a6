import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { spawnMxpost, type MxpostProcess } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';

let redis: Awaited<ReturnType<typeof startTestRedis>>;
before(async () => {
  redis = await startTestRedis();
});
after(async () => {
  await redis?.dispose();
});

test('two receivers and two workers on one Redis behave as one service: every message delivered exactly once', async () => {
  const endpoint = await startEndpoint();
  const routes = join(mkdtempSync(join(tmpdir(), 'mxpost-scale-')), 'routes.yaml');
  writeFileSync(routes, `domains:\n  s.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`);
  const env = { MXPOST_REDIS_URL: redis.url, MXPOST_REDIS_PREFIX: `scale-${Date.now()}`, MXPOST_ROUTES: routes, MXPOST_LOG_LEVEL: 'warn' };
  const processes: MxpostProcess[] = [];
  try {
    // warn level hides the start line the helper waits for: ask for info on these.
    for (const verb of ['receiver', 'receiver', 'worker', 'worker']) processes.push(await spawnMxpost(verb, { ...env, MXPOST_LOG_LEVEL: 'info' }));
    const receivers = processes.filter((p) => p.smtpPort !== null);
    assert.equal(receivers.length, 2);
    const count = 40;
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const result = await sendMail(receivers[i % 2]!.smtpPort!, { from: 'a@sender.test', to: [`n${i}@s.test`], message: testMessage({ subject: `scale ${i}` }) });
        assert.equal(result.data?.code, 250);
      }),
    );
    await endpoint.waitFor(count, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(endpoint.requests.length, count, 'no delivery twice');
    assert.equal(new Set(endpoint.requests.map((r) => r.json.message.subject)).size, count);
    const workerLogs = processes.filter((p) => p.smtpPort === null).map((p) => p.output());
    assert.ok(workerLogs.every((log) => log.includes('"outcome":"delivered"')), 'both workers took a share');
  } finally {
    for (const p of processes) await p.stop();
    await endpoint.close();
  }
});
