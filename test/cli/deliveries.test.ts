import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { runMxpost } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, testMessage } from '../support/smtp-client.ts';


let redis: Awaited<ReturnType<typeof startTestRedis>>;
before(async () => {
  redis = await startTestRedis();
});
after(async () => {
  await redis?.dispose();
});


test('the CLI lists, shows and replays a dead letter, which then reaches the endpoint with its webhook-id', async () => {
  const endpoint = await startEndpoint([410]);
  const service = await startMxpost({ redisUrl: redis.url, routes: `domains:\n  d.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n` });
  const env = { MXPOST_REDIS_URL: redis.url, MXPOST_REDIS_PREFIX: service.prefix };
  try {
    const result = await sendMail(service.smtpPort, { from: 'a@sender.test', to: ['x@d.test'], message: testMessage({ subject: 'cli replay' }) });
    const id = `${/queued as (\S+)/.exec(result.data!.text)![1]}-1`;
    let list = { status: null as number | null, stdout: '', stderr: '' };
    for (let i = 0; i < 50 && !list.stdout.includes(id); i++) {
      list = await runMxpost(['dead-letters', 'list', '--route', 'D.test'], env);
      if (!list.stdout.includes(id)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id} .* d\\.test  HTTP 410`, 'm'));

    const show = await runMxpost(['deliveries', 'show', id], env);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /\(dead-letter\)/);
    assert.match(show.stdout, /#1 .* dead-letter {2}HTTP 410/);

    const json = JSON.parse((await runMxpost(['dead-letters', 'show', id, '--json'], env)).stdout);
    assert.equal(json.attempts[0].status, 410);

    const replay = await runMxpost(['dead-letters', 'replay', id], env);
    assert.equal(replay.stdout.trim(), `replayed ${id}`);
    const requests = await endpoint.waitFor(2);
    assert.equal(requests[1]!.headers['webhook-id'], id);

    const missing = await runMxpost(['deliveries', 'show', 'no-such-id'], env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no delivery no-such-id/);
  } finally {
    await service.close();
    await endpoint.close();
  }
});
