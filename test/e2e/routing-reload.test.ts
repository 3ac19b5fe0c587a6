import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadRoutes } from '../../src/config/routes.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { startService } from '../../src/roles/service.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { startEndpoint } from '../support/endpoint.ts';
import { spawnMxpost, type MxpostProcess } from '../support/process.ts';
import { startTestRedis } from '../support/redis.ts';
import { sendMail, SmtpDialog, testMessage } from '../support/smtp-client.ts';
import { waitUntil } from '../support/wait.ts';

// Reloading the routes file while mail flows, through the whole service: real
// SMTP in, real Redis, real HTTP endpoints, the real file system. The file is
// replaced each way it is in practice (in place, by an editor's rename, by a
// Kubernetes ConfigMap's symlink swap), and a bad or half-written file never
// routes anything.

/** The in-process services poll this often; spawned ones use the default (500 ms). */
const POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Endpoint = Awaited<ReturnType<typeof startEndpoint>>;
type LogLine = { level: number; action?: string; trigger?: string; domains?: string[]; problems?: string; [field: string]: unknown };

/** A routes file with one catch-all route per domain, each to `<url>/<first label>`; `recipients` narrows one.test. */
function routesFile(url: (path: string) => string, domains: string[], recipients = '["*"]'): string {
  return ['domains:', ...domains.flatMap((domain) => [`  ${domain}:`, `    url: ${url(`/${domain.split('.')[0]}`)}`, `    recipients: ${domain === 'one.test' ? recipients : '["*"]'}`]), ''].join('\n');
}

/** How the file is replaced: each writer takes the file's folder layout into account. */
interface RoutesLocation {
  /** The path mxpost is given (MXPOST_ROUTES). */
  readonly path: string;
  replace(text: string): void;
}

/** A plain file, rewritten in place (truncate and write, as `>` in a shell does). */
function inPlace(dir: string, text: string): RoutesLocation {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, text);
  return { path, replace: (next) => writeFileSync(path, next) };
}

/** A plain file, replaced as editors save: a temporary file renamed over it. */
function renamed(dir: string, text: string): RoutesLocation {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, text);
  return {
    path,
    replace(next) {
      const temporary = join(dir, `.routes.yaml.${randomUUID()}`);
      writeFileSync(temporary, next);
      renameSync(temporary, path);
    },
  };
}

/** The kubelet's ConfigMap layout: routes.yaml -> ..data/routes.yaml, and ..data a symlink swapped atomically to a new folder. */
function configMap(dir: string, text: string): RoutesLocation {
  let version = 0;
  const publish = (content: string) => {
    const folder = `..2026_11_28_10_00_0${version}.${++version}`;
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'routes.yaml'), content);
    symlinkSync(folder, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  publish(text);
  symlinkSync('..data/routes.yaml', join(dir, 'routes.yaml'));
  return { path: join(dir, 'routes.yaml'), replace: publish };
}

describe('routes reload', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let dns: DnsServer;
  let root: string;
  before(async () => {
    redis = await startTestRedis();
    // Authentication runs on every message and must not wait on the machine's resolver.
    dns = await startDnsServer();
    root = mkdtempSync(join(tmpdir(), 'mxpost-reload-'));
  });
  after(async () => {
    await dns?.stop();
    await redis?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const folder = () => {
    const dir = join(root, randomUUID());
    mkdirSync(dir);
    return dir;
  };

  const baseEnv = () => ({
    MXPOST_REDIS_URL: redis.url,
    MXPOST_REDIS_PREFIX: `test-${randomUUID()}`,
    MXPOST_SMTP_HOST: '127.0.0.1',
    MXPOST_SMTP_PORT: '0',
    MXPOST_HTTP_HOST: '127.0.0.1',
    MXPOST_HTTP_PORT: '0',
    MXPOST_HOSTNAME: 'mx.test',
    MXPOST_RETRY_DELAY_MS: '100',
    MXPOST_SHUTDOWN_TIMEOUT_MS: '5000',
    MXPOST_DNS_SERVERS: dns.address,
  });

  /**
   * mxpost (serve) in this process, started as `mxpost serve` starts it: routes
   * loaded from the file, the file watched. Its log lines are kept for the test.
   */
  async function serve(routesPath: string) {
    const env: NodeJS.ProcessEnv = { ...baseEnv(), MXPOST_ROUTES: routesPath };
    const settings = loadSettings(env);
    const log: LogLine[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void log.push(JSON.parse(line) as LogLine) });
    const service = await startService({ settings, routes: await loadRoutes(routesPath, env), role: 'serve', logger, env, watchRoutes: { intervalMs: POLL_MS } });
    const reloads = () => log.filter((line) => line.action === 'routes-reloaded');
    return {
      service,
      port: service.smtp!.port,
      log,
      reloads,
      /** Resolves once the service has reloaded `count` times in all. */
      reloaded: (count: number) => waitUntil(() => reloads().length >= count),
    };
  }

  /** One message to `to`; the subject identifies it at the endpoints. */
  const send = (port: number, to: string[], subject = randomUUID()) => sendMail(port, { from: 'alice@sender.test', to, message: testMessage({ subject }) });

  for (const [how, layout] of [
    ['written in place', inPlace],
    ['replaced by rename', renamed],
    ['replaced by a ConfigMap symlink swap', configMap],
  ] as const) {
    test(`a routes file ${how} is in force without SIGHUP: a new domain is accepted, a removed recipient is refused, a new URL gets the next message`, async () => {
      const [a, b] = [await startEndpoint(), await startEndpoint()];
      const file = layout(folder(), routesFile(a.url, ['one.test'], '["keep", "gone"]'));
      const mx = await serve(file.path);
      try {
        assert.equal((await send(mx.port, ['gone@one.test'])).data?.code, 250);
        await a.waitFor(1);

        file.replace(routesFile(b.url, ['one.test', 'two.test'], '["keep"]'));
        await mx.reloaded(1);
        assert.deepEqual(mx.reloads()[0]!.domains, ['one.test', 'two.test']);
        assert.equal(mx.reloads()[0]!.trigger, 'change');

        const refused = await send(mx.port, ['gone@one.test']);
        assert.equal(refused.rcpt[0]!.code, 550);
        assert.match(refused.rcpt[0]!.text, /^5\.1\.1 /);
        const subject = randomUUID();
        const sent = await send(mx.port, ['keep@one.test', 'new@two.test'], subject);
        assert.deepEqual(sent.rcpt.map((r) => r.code), [250, 250]);
        assert.equal(sent.data?.code, 250);
        const deliveries = await b.waitFor(2);
        assert.deepEqual(deliveries.map((r) => r.path).sort(), ['/one', '/two']);
        for (const delivery of deliveries) assert.equal(delivery.json.message.subject, subject);
        assert.equal(a.requests.length, 1, 'the old endpoint got nothing after the reload');
        assert.equal(mx.log.filter((line) => line.action === 'routes-reload-failed').length, 0);
      } finally {
        await mx.service.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  }

  test('a session opened before a reload is not dropped: its transaction keeps the routes it started with, and its next one has the new routes', async () => {
    const [a, b] = [await startEndpoint(), await startEndpoint()];
    const file = renamed(folder(), routesFile(a.url, ['one.test'], '["first", "second"]'));
    const mx = await serve(file.path);
    const { dialog } = await SmtpDialog.open(mx.port);
    try {
      assert.equal((await dialog.command('EHLO client.sender.test')).code, 250);
      assert.equal((await dialog.command('MAIL FROM:<alice@sender.test>')).code, 250);
      assert.equal((await dialog.command('RCPT TO:<first@one.test>')).code, 250);

      // The new file removes "second" and moves the route to endpoint b.
      file.replace(routesFile(b.url, ['one.test'], '["first"]'));
      await mx.reloaded(1);

      // Same transaction: routed wholly by the routes of its first RCPT.
      assert.equal((await dialog.command('RCPT TO:<second@one.test>')).code, 250);
      assert.equal((await dialog.data(testMessage({ subject: 'before' }))).code, 250);
      const [old] = await a.waitFor(1);
      assert.deepEqual(old!.json.envelope.rcptTo, ['first@one.test', 'second@one.test']);

      // Next transaction, same connection: the new routes.
      assert.equal((await dialog.command('MAIL FROM:<alice@sender.test>')).code, 250);
      assert.equal((await dialog.command('RCPT TO:<second@one.test>')).code, 550);
      assert.equal((await dialog.command('RCPT TO:<first@one.test>')).code, 250);
      assert.equal((await dialog.data(testMessage({ subject: 'after' }))).code, 250);
      const [moved] = await b.waitFor(1);
      assert.equal(moved!.json.message.subject, 'after');
      assert.equal(a.requests.length, 1);
    } finally {
      await dialog.quit();
      await mx.service.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  describe('a real mxpost serve process', () => {
    let a: Endpoint;
    let b: Endpoint;
    let mx: MxpostProcess;
    let file: RoutesLocation;
    before(async () => {
      [a, b] = [await startEndpoint(), await startEndpoint()];
      file = inPlace(folder(), routesFile(a.url, ['one.test']));
      mx = await spawnMxpost('serve', { ...baseEnv(), MXPOST_ROUTES: file.path });
    });
    after(async () => {
      await mx?.stop();
      await Promise.all([a?.close(), b?.close()]);
    });

    const log = () =>
      mx
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine);
    const logged = (action: string) => log().filter((line) => line.action === action);
    const metric = async (result: string) => {
      const text = await (await fetch(`http://127.0.0.1:${mx.httpPort}/metrics`)).text();
      return Number(new RegExp(`^mxpost_routes_reloads_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    };

    /** Sends a message to one.test and checks that `endpoint` gets it. */
    async function flowsTo(endpoint: Endpoint) {
      const count = endpoint.requests.length;
      const subject = randomUUID();
      const sent = await send(mx.smtpPort!, ['someone@one.test'], subject);
      assert.equal(sent.data?.code, 250);
      const requests = await endpoint.waitFor(count + 1);
      assert.equal(requests[count]!.json.message.subject, subject);
    }

    test('a file with a YAML syntax error keeps the old routes, and the log names its line', async () => {
      // Line 4 closes one flow sequence too many.
      file.replace(['domains:', '  one.test:', `    url: ${b.url('/one')}`, '    recipients: ["*"]]', ''].join('\n'));
      await waitUntil(() => logged('routes-reload-failed').length >= 1);
      const [failure] = logged('routes-reload-failed');
      assert.equal(failure!.level, 50, 'logged at error level');
      assert.equal(failure!.trigger, 'change');
      assert.ok(failure!.problems!.startsWith(`${file.path}:4:`), failure!.problems);
      await flowsTo(a);
      assert.equal(b.requests.length, 0);
      assert.equal(await metric('failed'), 1);
    });

    test('a file that parses but breaks the schema keeps the old routes, and the log names the line and the setting', async () => {
      file.replace(['domains:', '  one.test:', '    url: not a url', '    recipients: ["*"]', ''].join('\n'));
      await waitUntil(() => logged('routes-reload-failed').length >= 2);
      const failure = logged('routes-reload-failed')[1]!;
      assert.ok(failure.problems!.startsWith(`${file.path}:3:10: domains."one.test".url: must be an http(s) URL`), failure.problems);
      await flowsTo(a);
      assert.equal(b.requests.length, 0);
      assert.equal(await metric('failed'), 2);
    });

    test('SIGHUP reloads the file, and a bad file on SIGHUP is logged alike and keeps the routes', async () => {
      // The bad file is still there: SIGHUP re-reads it and refuses it again.
      mx.child.kill('SIGHUP');
      await waitUntil(() => logged('routes-reload-failed').some((line) => line.trigger === 'signal'));
      const failure = logged('routes-reload-failed').find((line) => line.trigger === 'signal')!;
      assert.ok(failure.problems!.startsWith(`${file.path}:3:10: `), failure.problems);
      await flowsTo(a);

      // A good file: the signal loads it at once, whatever the watcher does later.
      file.replace(routesFile(b.url, ['one.test', 'two.test']));
      mx.child.kill('SIGHUP');
      await waitUntil(() => logged('routes-reloaded').some((line) => line.trigger === 'signal'));
      assert.deepEqual(logged('routes-reloaded').find((line) => line.trigger === 'signal')!.domains, ['one.test', 'two.test']);
      await flowsTo(b);
      assert.ok((await metric('ok')) >= 1);
    });
  });

  test('reload under load: every message is routed wholly by one version of the file, delivered once per route, and none is refused', async (t) => {
    // Versions A and B route both domains, each to its own endpoint. The first
    // half of each file (up to two.test) is itself a valid routes file with
    // one.test only: loaded, it would refuse every two.test recipient. The file
    // alternates between A and B by rename and by slow in-place rewrites that
    // pause half-way for less than the poll interval.
    const [a, b] = [await startEndpoint(), await startEndpoint()];
    const versions = { A: routesFile(a.url, ['one.test', 'two.test']), B: routesFile(b.url, ['one.test', 'two.test']) };
    const file = renamed(folder(), versions.A);
    const mx = await serve(file.path);
    const CLIENTS = 4;
    const SWITCHES = 24;

    function slowRewrite(text: string): Promise<void> {
      const half = text.indexOf('  two.test:');
      const fd = openSync(file.path, 'w');
      writeSync(fd, text.slice(0, half));
      return sleep(POLL_MS / 3).then(() => {
        writeSync(fd, text.slice(half));
        closeSync(fd);
      });
    }

    const accepted: string[] = [];
    const problems: string[] = [];
    let straddled = 0;
    let stop = false;
    const client = async (id: number) => {
      for (let session = 0; !stop; session++) {
        const { dialog } = await SmtpDialog.open(mx.port);
        try {
          assert.equal((await dialog.command('EHLO client.sender.test')).code, 250);
          // Several transactions per connection: each must take its own routes.
          for (let n = 0; n < 20 && !stop; n++) {
            const subject = `load ${id}.${session}.${n}`;
            assert.equal((await dialog.command('MAIL FROM:<alice@sender.test>')).code, 250);
            const reloadsBefore = mx.reloads().length;
            const first = await dialog.command(`RCPT TO:<a.${id}@one.test>`);
            // A pause between the recipients, so that reloads land between them.
            await sleep(Math.random() * 20);
            const second = await dialog.command(`RCPT TO:<b.${id}@two.test>`);
            if (mx.reloads().length !== reloadsBefore) straddled++;
            if (first.code !== 250 || second.code !== 250) {
              problems.push(`${subject}: RCPT ${first.code} ${first.text} / ${second.code} ${second.text}`);
              await dialog.command('RSET');
              continue;
            }
            const data = await dialog.data(testMessage({ subject }));
            if (data.code === 250) accepted.push(subject);
            else problems.push(`${subject}: DATA ${data.code} ${data.text}`);
          }
        } finally {
          await dialog.quit();
        }
      }
    };

    try {
      // A client that fails records why, and the others go on: the asserts below report it.
      const clients = Array.from({ length: CLIENTS }, (_, id) => client(id).catch((err: Error) => void problems.push(`client ${id}: ${err.message}`)));
      let renames = 0;
      let rewrites = 0;
      for (let i = 1; i <= SWITCHES; i++) {
        const text = i % 2 === 1 ? versions.B : versions.A;
        if (i % 3 === 0) {
          file.replace(text);
          renames++;
        } else {
          await slowRewrite(text);
          rewrites++;
        }
        await mx.reloaded(i);
        // Let some mail through under this version before the next switch.
        await sleep(50 + Math.random() * 100);
      }
      stop = true;
      await Promise.all(clients);

      // What the sessions saw first: a half-written file loaded would have refused two.test.
      assert.deepEqual(problems, [], 'no recipient or message was refused');
      const reloads = mx.reloads();
      assert.equal(reloads.length, SWITCHES, 'each switch was one reload, and no half-written file was loaded');
      for (const reload of reloads) assert.deepEqual(reload.domains, ['one.test', 'two.test']);
      assert.equal(mx.log.filter((line) => line.action === 'routes-reload-failed').length, 0);

      const routedTo = new Map<string, string[]>(accepted.map((subject) => [subject, []]));
      const total = () => a.requests.length + b.requests.length;
      await waitUntil(() => total() >= 2 * accepted.length, 30_000).catch((err: Error) => {
        const errors = mx.log.filter((line) => line.level >= 50).map((line) => line.reason ?? line.msg);
        throw new Error(`${err.message}: ${total()} of ${2 * accepted.length} deliveries; errors logged: ${errors.slice(0, 3).join('; ') || 'none'}`);
      });
      // Room for a duplicate to show up, were one sent.
      await sleep(500);
      for (const [name, endpoint] of [['A', a], ['B', b]] as const) {
        for (const request of endpoint.requests) {
          const subject = request.json.message.subject as string;
          assert.ok(routedTo.has(subject), `${name} got a message that was never accepted: ${subject}`);
          routedTo.get(subject)!.push(`${name}${request.path}`);
        }
      }
      const byVersion = { A: 0, B: 0 };
      for (const [subject, deliveries] of routedTo) {
        const sorted = deliveries.sort().join(' ');
        assert.ok(sorted === 'A/one A/two' || sorted === 'B/one B/two', `${subject} was delivered to ${sorted || 'nothing'}: not exactly once per route of one version`);
        byVersion[sorted[0] as 'A' | 'B']++;
      }
      t.diagnostic(
        `${accepted.length} messages over ${SWITCHES} reloads (${renames} renames, ${rewrites} slow rewrites): ${byVersion.A} by A, ${byVersion.B} by B; a reload landed between the two RCPTs of ${straddled}`,
      );
      assert.ok(byVersion.A > 0 && byVersion.B > 0, 'mail flowed under both versions');
    } finally {
      stop = true;
      await mx.service.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
