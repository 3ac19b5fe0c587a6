import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { contentHash, watchContent, type FileWatcher } from '../../src/config/watch.ts';
import { waitUntil } from '../support/wait.ts';

// The routes file's watcher on the real file system, with each way a file is
// replaced in practice: in place, by rename, and by a ConfigMap's symlink swap.
const INTERVAL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('watchContent', () => {
  let root: string;
  let n = 0;
  const watchers: FileWatcher[] = [];
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'mxpost-watch-'));
  });
  after(() => {
    for (const watcher of watchers) watcher.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A fresh folder with `routes.yaml` holding `initial`, and a watcher on it that records what it reports. */
  function setup(initial = 'version: 1\n') {
    const dir = join(root, String(n++));
    mkdirSync(dir);
    const file = join(dir, 'routes.yaml');
    writeFileSync(file, initial);
    return { dir, file, ...watch(file) };
  }

  function watch(file: string) {
    const changes: string[] = [];
    const errors: Error[] = [];
    const watcher = watchContent(file, {
      intervalMs: INTERVAL_MS,
      onChange: (content, hash) => {
        assert.equal(hash, contentHash(content));
        changes.push(content.toString('utf8'));
      },
      onError: (err) => errors.push(err),
    });
    watchers.push(watcher);
    return { changes, errors, watcher };
  }

  /** Long enough for the watcher to have seen and settled anything written before it. */
  const quiet = () => sleep(INTERVAL_MS * 6);

  test('reports nothing while the file does not change, not even at start', async () => {
    const { changes, errors } = setup();
    await quiet();
    assert.deepEqual(changes, []);
    assert.deepEqual(errors, []);
  });

  test('reports an in-place write once, with the new content', async () => {
    const { file, changes } = setup();
    writeFileSync(file, 'version: 2\n');
    await waitUntil(() => changes.length > 0);
    await quiet();
    assert.deepEqual(changes, ['version: 2\n']);
  });

  test('reports an editor-style write to a temporary file renamed over the original', async () => {
    const { dir, file, changes } = setup();
    writeFileSync(join(dir, '.routes.yaml.swp'), 'version: 2\n');
    renameSync(join(dir, '.routes.yaml.swp'), file);
    await waitUntil(() => changes.length > 0);
    await quiet();
    assert.deepEqual(changes, ['version: 2\n']);
  });

  test('reports a Kubernetes ConfigMap update: routes.yaml -> ..data/routes.yaml, with ..data swapped atomically', async () => {
    // The layout the kubelet makes: a timestamped folder per version, `..data`
    // a symlink to the current one, and each key a symlink through `..data`.
    const dir = join(root, String(n++));
    mkdirSync(join(dir, '..2026_11_28_10_00_00.1'), { recursive: true });
    writeFileSync(join(dir, '..2026_11_28_10_00_00.1', 'routes.yaml'), 'version: 1\n');
    symlinkSync('..2026_11_28_10_00_00.1', join(dir, '..data'));
    symlinkSync('..data/routes.yaml', join(dir, 'routes.yaml'));
    const { changes } = watch(join(dir, 'routes.yaml'));
    await quiet();

    mkdirSync(join(dir, '..2026_11_28_10_05_00.2'));
    // The same size as the old file: the stat through the symlinks differs in inode and times.
    writeFileSync(join(dir, '..2026_11_28_10_05_00.2', 'routes.yaml'), 'version: 2\n');
    symlinkSync('..2026_11_28_10_05_00.2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2026_11_28_10_00_00.1'), { recursive: true });
    await waitUntil(() => changes.length > 0);
    await quiet();
    assert.deepEqual(changes, ['version: 2\n']);
  });

  test('does not report a change that leaves the content as it was (touch, or the same text written again)', async () => {
    const { file, changes } = setup();
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    await quiet();
    writeFileSync(file, 'version: 1\n');
    await quiet();
    assert.deepEqual(changes, []);
    // Still watching: a real change after those is reported.
    writeFileSync(file, 'version: 2\n');
    await waitUntil(() => changes.length > 0);
    assert.deepEqual(changes, ['version: 2\n']);
  });

  test('does not report a slow in-place write part-way: half the file, a pause shorter than the interval, the rest', async () => {
    const { file, changes } = setup('domains: {}\n');
    for (let round = 0; round < 3; round++) {
      const text = `# round ${round}\ndomains:\n  one.test: {}\n  two.test: {}\n`;
      const half = text.length / 2;
      const fd = openSync(file, 'w');
      writeSync(fd, text.slice(0, half));
      await sleep(INTERVAL_MS / 3);
      writeSync(fd, text.slice(half));
      closeSync(fd);
      await waitUntil(() => changes.length === round + 1);
    }
    await quiet();
    assert.deepEqual(changes, [0, 1, 2].map((round) => `# round ${round}\ndomains:\n  one.test: {}\n  two.test: {}\n`));
  });

  test('reports only the last of several writes in quick succession', async () => {
    const { file, changes } = setup();
    for (let version = 2; version <= 6; version++) {
      writeFileSync(file, `version: ${version}\n`);
      await sleep(INTERVAL_MS / 4);
    }
    await waitUntil(() => changes.length > 0);
    await quiet();
    assert.deepEqual(changes, ['version: 6\n']);
  });

  test('reports a removed file as an error, and the file put back as a change even with the old content', async () => {
    const { file, changes, errors } = setup();
    rmSync(file);
    await waitUntil(() => errors.length > 0);
    assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ENOENT');
    writeFileSync(file, 'version: 1\n');
    await waitUntil(() => changes.length > 0);
    await quiet();
    assert.deepEqual(changes, ['version: 1\n']);
    assert.equal(errors.length, 1);
  });

  test('close() stops it: a change after close is never reported, and closing twice is harmless', async () => {
    const { file, changes, watcher } = setup();
    watcher.close();
    watcher.close();
    writeFileSync(file, 'version: 2\n');
    await quiet();
    assert.deepEqual(changes, []);
  });

  test('does not keep the process alive', async () => {
    const { file } = setup();
    const module = new URL('../../src/config/watch.ts', import.meta.url).pathname;
    const script = `import { watchContent } from ${JSON.stringify(module)};
      watchContent(${JSON.stringify(file)}, { intervalMs: 50, onChange() {}, onError() {} });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    // A watcher that held the event loop open would keep it running: killed then,
    // well past any plausible start-up time, so that the test fails rather than hangs.
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await once(child, 'exit');
    clearTimeout(kill);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
  });
});
