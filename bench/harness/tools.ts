// The load generator and the reference systems, installed into a scratch
// folder (.mxpost/bench, git-ignored) and never into the project:
// - Postfix's smtp-source and smtp-sink, extracted from Debian's `postfix`
//   package with `apt-get download` + `dpkg-deb -x`. The package is never
//   installed, so no Postfix daemon is configured or started (nothing on port 25).
// - Haraka, from npm, into a folder with its own package.json, so that npm
//   does not walk up to the project's package.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Pinned so that runs on different days compare. */
export const HARAKA_VERSION = '3.3.4';

export interface PostfixTools {
  readonly smtpSource: string;
  readonly smtpSink: string;
  /** The extracted package's private libraries (libpostfix-*.so) are not on the loader's path. */
  readonly env: NodeJS.ProcessEnv;
  /** The Debian package version, for the results. */
  readonly version: string;
}

export interface HarakaInstall {
  /** haraka.js, run with this Node. */
  readonly main: string;
  readonly version: string;
}

/** Thrown when a tool cannot be had on this machine (no apt, no registry): the bench cannot run. */
export class ToolUnavailableError extends Error {
  override readonly name = 'ToolUnavailableError';
}

const say = (text: string) => process.stderr.write(`bench: ${text}\n`);

export function ensurePostfixTools(scratch: string): PostfixTools {
  const root = join(scratch, 'postfix');
  const tools = (): PostfixTools => {
    const lib = join(root, 'usr/lib/postfix');
    return {
      smtpSource: join(root, 'usr/sbin/smtp-source'),
      smtpSink: join(root, 'usr/sbin/smtp-sink'),
      env: { ...process.env, LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
      version: existsSync(join(root, 'VERSION')) ? readFileSync(join(root, 'VERSION'), 'utf8').trim() : 'unknown',
    };
  };
  if (runs(tools())) return tools();

  say('extracting smtp-source and smtp-sink from Debian\'s postfix package (not installed, no daemon)');
  const download = join(scratch, 'postfix-deb');
  rmSync(download, { recursive: true, force: true });
  mkdirSync(download, { recursive: true });
  const get = () => spawnSync('apt-get', ['download', '-qq', 'postfix'], { cwd: download, encoding: 'utf8' });
  let result = get();
  if (result.error) throw new ToolUnavailableError(`cannot run apt-get (${result.error.message}): smtp-source comes from Debian's postfix package`);
  if (result.status !== 0) {
    // A fresh machine may have no package lists yet.
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    result = get();
  }
  const deb = readdirSync(download).find((name) => name.endsWith('.deb'));
  if (result.status !== 0 || !deb) throw new ToolUnavailableError(`apt-get download postfix failed: ${(result.stderr || result.stdout).trim()}`);
  rmSync(root, { recursive: true, force: true });
  execFileSync('dpkg-deb', ['-x', join(download, deb), root]);
  writeFileSync(join(root, 'VERSION'), execFileSync('dpkg-deb', ['-f', join(download, deb), 'Version'], { encoding: 'utf8' }));
  rmSync(download, { recursive: true, force: true });
  if (!runs(tools())) {
    // The binaries link Debian libraries (ICU, Berkeley DB, SASL) that a minimal
    // image may lack: install those libraries only (they start no service).
    say('installing the libraries smtp-source links against');
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'libicu72', 'libdb5.3', 'libnsl2', 'libsasl2-2', 'libssl3'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (!runs(tools())) throw new ToolUnavailableError(`smtp-source was extracted to ${root} but does not run`);
  return tools();
}

/** smtp-source without arguments prints its usage: proof that it loads. */
function runs(tools: PostfixTools): boolean {
  if (!existsSync(tools.smtpSource) || !existsSync(tools.smtpSink)) return false;
  const result = spawnSync(tools.smtpSource, [], { env: tools.env, encoding: 'utf8' });
  return /usage/.test(result.stderr ?? '');
}

export function ensureHaraka(scratch: string): HarakaInstall {
  const dir = join(scratch, 'haraka');
  const manifest = join(dir, 'node_modules/Haraka/package.json');
  const installed = () => (existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : null);
  if (installed() !== HARAKA_VERSION) {
    say(`installing Haraka ${HARAKA_VERSION} from npm into ${dir}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true, "description": "Haraka for mxpost\'s benchmark (scratch)" }\n');
    const result = spawnSync('npm', ['install', `Haraka@${HARAKA_VERSION}`, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
    if (result.error || result.status !== 0) throw new ToolUnavailableError(`npm install Haraka@${HARAKA_VERSION} failed: ${result.error?.message ?? result.stderr.trim()}`);
  }
  return { main: join(dir, 'node_modules/Haraka/haraka.js'), version: installed() ?? HARAKA_VERSION };
}
