import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, SETTING_DEFAULTS } from './contract.ts';
import { inBuildContext, parseDockerfile } from './image.ts';
import { readManifests } from './render.ts';

// No Docker engine runs where these tests run: they check the Dockerfile's
// text against the repository, and leave building it to CI with Docker.
const dockerfile = parseDockerfile(readFileSync(`${ROOT}Dockerfile`, 'utf8'));
const dockerignore = readFileSync(`${ROOT}.dockerignore`, 'utf8');
const lastStage = Math.max(...dockerfile.map((i) => i.stage));
const final = (keyword: string) => dockerfile.filter((i) => i.stage === lastStage && i.keyword === keyword);

describe('container image', () => {
  test('builds in stages on the Node.js 24 slim image that development runs', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { devDependencies: Record<string, string> };
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile.map((i) => `${i.keyword} ${i.args}`).join('\n'))?.[1] ?? '';
    assert.match(image, /^node:24\.[\d.]+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    assert.equal(/^node:([\d.]+)-/.exec(image)?.[1], pkg.devDependencies.node);
    assert.ok(lastStage >= 1, 'a dependency stage and a runtime stage');
  });

  test('installs production dependencies only, from the lockfile', () => {
    const install = dockerfile.filter((i) => i.keyword === 'RUN' && /\bnpm\b/.test(i.args));
    assert.ok(install.length > 0);
    for (const run of install) assert.match(run.args, /^npm ci\b.*--omit=dev/);
    // The runtime stage takes node_modules from the stage that installed it, and runs no npm.
    assert.ok(final('COPY').some((i) => /--from=\S+ \S*node_modules/.test(i.args)));
    assert.equal(final('RUN').length, 0);
  });

  test('runs as the same numeric non-root user the manifests require', () => {
    const [user] = final('USER');
    const uid = Number(/^(\d+)(:\d+)?$/.exec(user?.args ?? '')?.[1]);
    assert.ok(uid > 0, `USER ${user?.args} is numeric and not root`);
    for (const file of ['receiver.yaml', 'worker.yaml']) {
      const [deployment] = readManifests(`${ROOT}deploy/base/${file}`);
      const spec = deployment!.spec as { template: { spec: { securityContext: { runAsUser: number } } } };
      assert.equal(spec.template.spec.securityContext.runAsUser, uid, file);
    }
  });

  test('exposes the default SMTP and HTTP ports, and probes /healthz on the port mxpost reads', () => {
    const exposed = final('EXPOSE').flatMap((i) => i.args.split(/\s+/));
    assert.ok(exposed.includes(SETTING_DEFAULTS.MXPOST_SMTP_PORT!), `EXPOSE ${exposed}`);
    assert.ok(exposed.includes(SETTING_DEFAULTS.MXPOST_HTTP_PORT!));
    const [check] = final('HEALTHCHECK');
    assert.match(check?.args ?? '', /\/healthz/);
    assert.match(check?.args ?? '', /MXPOST_HTTP_PORT/);
  });

  test('starts the mxpost command, serving by default', () => {
    const entrypoint = JSON.parse(final('ENTRYPOINT')[0]!.args) as string[];
    assert.equal(entrypoint[0], 'node');
    assert.ok(existsSync(`${ROOT}${entrypoint[1]}`), entrypoint[1]);
    assert.deepEqual(JSON.parse(final('CMD')[0]!.args), ['serve']);
  });

  test('copies only what the build context holds', () => {
    for (const copy of dockerfile.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      for (const source of copy.args.split(/\s+/).slice(0, -1)) {
        assert.ok(existsSync(`${ROOT}${source}`), `${source} exists`);
        assert.ok(inBuildContext(source, dockerignore), `.dockerignore lets ${source} in`);
      }
    }
  });

  test('copies every file outside src/ that the code imports', () => {
    const copied = dockerfile
      .filter((i) => i.stage === lastStage && i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1).map((source) => source.replace(/\/$/, '')));
    const sources = (readdirSync(`${ROOT}src`, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    for (const file of sources) {
      const text = readFileSync(`${ROOT}src/${file}`, 'utf8');
      for (const [, spec] of text.matchAll(/^import\s(?!type\s)[^;]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
        const target = relative(ROOT, join(ROOT, 'src', dirname(file), spec!));
        if (target.startsWith('src/')) continue;
        assert.ok(copied.some((c) => target === c || target.startsWith(`${c}/`)), `src/${file} imports ${target}, which the image lacks`);
      }
    }
  });

  test('keeps secrets, dependencies and everything unlisted out of the build context', () => {
    for (const path of ['.env', '.env.production', 'node_modules/ioredis/package.json', '.git/config', 'test/e2e/serve.test.ts', 'deploy/base/config.env', '.scratch/notes.ts', 'key.pem']) {
      assert.equal(inBuildContext(path, dockerignore), false, path);
    }
    assert.equal(inBuildContext('src/cli/main.ts', dockerignore), true);
  });
});

describe('.dockerignore rules', () => {
  test('a later ! pattern lets a path back in, and a parent directory decides for its files', () => {
    assert.equal(inBuildContext('src/a.ts', '*\n!src'), true);
    assert.equal(inBuildContext('src/a.ts', 'src'), false);
    assert.equal(inBuildContext('docs/a.md', '*.md'), true, '* does not cross a /');
    assert.equal(inBuildContext('docs/a.md', '**/*.md'), false);
    assert.equal(inBuildContext('a.md', '**/*.md'), false);
    assert.equal(inBuildContext('a.md', '*.md\n!a.md'), true);
  });
});
