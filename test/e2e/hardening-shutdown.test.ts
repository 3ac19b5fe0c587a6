import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startEndpoint } from '../support/endpoint.ts';
import { startMxpost } from '../support/mxpost.ts';
import { startTestRedis } from '../support/redis.ts';
import { testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';
import { sleep, Wire } from '../smtp/harness.ts';

describe('shutdown', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  const routes = () => `domains:\n  example.test:\n    url: ${endpoint.url()}\n    recipients: ["*"]\n`;

  before(async () => {
    redis = await startTestRedis();
    endpoint = await startEndpoint();
  });
  after(async () => {
    await endpoint?.close();
    await redis?.dispose();
  });

  const enhanced = (reply: { text: string } | null | undefined) => /^\d\.\d\.\d+/.exec(reply?.text ?? '')?.[0];

  async function begin(port: number, stage: 'idle' | 'mail' | 'data') {
    const wire = await Wire.open(port);
    await wire.send('EHLO client.sender.test');
    if (stage === 'idle') return wire;
    await wire.send('MAIL FROM:<alice@sender.test>');
    if (stage === 'mail') return wire;
    await wire.send('RCPT TO:<drain@example.test>');
    assert.equal((await wire.send('DATA'))?.code, 354);
    return wire;
  }

  test('stops listening, finishes transactions in progress, answers 421 4.3.2 to the rest, and ends within its deadline', async () => {
    const mxpost = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'receiver', env: { MXPOST_SHUTDOWN_TIMEOUT_MS: '1500' } });
    const idle = await begin(mxpost.smtpPort, 'idle');
    const enveloping = await begin(mxpost.smtpPort, 'mail');
    const sending = await begin(mxpost.smtpPort, 'data');
    const stuck = await begin(mxpost.smtpPort, 'data');
    const inFlight = testMessage({ subject: 'finished while draining' });
    sending.socket.write(inFlight.slice(0, 50));
    stuck.socket.write(testMessage({ subject: 'never finished' }).slice(0, 50));

    const started = Date.now();
    const closed = mxpost.close();
    await idle.closed;
    assert.equal(idle.last?.code, 421, 'a session between transactions is told at once');
    assert.equal(enhanced(idle.last), '4.3.2');
    assert.ok(Date.now() - started < 500);

    const refused = connect({ port: mxpost.smtpPort, host: '127.0.0.1' });
    const [outcome] = await Promise.race([once(refused, 'error').then(([e]) => [(e as NodeJS.ErrnoException).code]), once(refused, 'connect').then(() => ['connected'])]);
    refused.destroy();
    assert.equal(outcome, 'ECONNREFUSED', 'no new connections while draining');

    const done = await sending.send(`${inFlight.slice(50)}\r\n.`);
    assert.equal(done?.code, 250, 'DATA in progress is finished and stored');
    // The drain may tell the session as soon as its transaction ends, before the
    // client's next MAIL FROM arrives (the server then closes): the 421 is either
    // the answer to MAIL FROM or already the last reply of a closed session.
    const next = (await sending.send('MAIL FROM:<alice@sender.test>')) ?? sending.last;
    assert.equal(next?.code, 421, 'and the session then ends instead of starting another transaction');
    assert.equal(enhanced(next), '4.3.2');
    await sending.closed;

    assert.equal((await enveloping.send('RCPT TO:<late@example.test>'))?.code, 250, 'a transaction begun before the signal goes on');
    await enveloping.send('DATA');
    assert.equal((await enveloping.send(`${testMessage({ subject: 'begun before the signal' })}\r\n.`))?.code, 250);

    await closed;
    const took = Date.now() - started;
    assert.ok(took >= 1400 && took < 3000, `close() took ${took} ms for a 1500 ms deadline`);
    await stuck.closed;
    assert.equal(stuck.last?.code, 421, 'a transaction still open at the deadline is closed with 421');
    assert.equal(enhanced(stuck.last), '4.3.2');

    // What was acknowledged is in Redis for the next worker.
    const worker = await startMxpost({ redisUrl: redis.url, routes: routes(), role: 'worker', prefix: mxpost.prefix });
    try {
      const subjects = () => endpoint.requests.map((r) => r.json?.message?.subject);
      await waitUntil(() => subjects().includes('finished while draining') && subjects().includes('begun before the signal'));
      await sleep(200);
      assert.ok(!subjects().includes('never finished'));
    } finally {
      await worker.close();
    }
  });
});
