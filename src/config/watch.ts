import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

/**
 * Half a second between polls: a change is taken once it has held for one more
 * poll, so an edit is in force about a second after it is saved, and two stats
 * a second cost nothing.
 */
export const DEFAULT_POLL_MS = 500;

export interface WatchOptions {
  /** How often the file is stat'ed, and how long a change must hold before it is reported. @defaultValue DEFAULT_POLL_MS */
  readonly intervalMs?: number;
  /** The file's new content once it has settled; never called twice in a row with the same content. */
  onChange(content: Buffer, hash: string): void;
  /** The file could not be read once it settled (removed, unreadable); its next readable content is reported, whatever it is. */
  onError(err: Error): void;
}

export interface FileWatcher {
  /** Stops polling; no callback runs after it. Idempotent. */
  close(): void;
}

/** What one look at the file saw: its stat (through symlinks) and its content, or why it could not be read. */
type Look = { readonly signature: string; readonly content: Buffer; readonly hash: string } | { readonly signature: string; readonly error: Error };

/**
 * Watches a file's content. Polling stat() is the one way that sees every kind
 * of replacement on every filesystem: an in-place write, an editor's write to a
 * temporary file and rename, and a Kubernetes ConfigMap update, where the file
 * is a symlink into `..data`, itself a symlink swapped atomically (inotify on
 * the path sees none of that swap, and is unreliable on network and overlay
 * filesystems). watchFile() stats through symlinks, so each of those changes
 * the inode, size or times it reports.
 *
 * A change is reported only after two looks one interval apart agree on stat and
 * content: a writer part-way through a slow, non-atomic write (half the file,
 * a pause, the rest) is not taken at the half, as long as it pauses less than
 * an interval. A change that leaves the content as it was (a `touch`, a
 * rewrite with the same text) is not reported.
 *
 * Timers are unref'd: the watcher never keeps a process alive.
 */
export function watchContent(path: string, options: WatchOptions): FileWatcher {
  const intervalMs = options.intervalMs ?? DEFAULT_POLL_MS;
  // The content the caller has, as far as this watcher knows: the file as it is
  // now, since the caller has just loaded it; null when it cannot be read.
  let reported: string | null = hashOrNull(path);
  let previous: Look | null = null;
  let timer: NodeJS.Timeout | null = null;
  let looking = false;
  let closed = false;
  // Counts watchFile's reports, so that a look knows whether the file moved
  // while it was reading: such a look cannot settle anything.
  let changes = 0;

  const schedule = (delayMs: number) => {
    if (closed || timer || looking) return;
    timer = setTimeout(look, delayMs);
    timer.unref();
  };

  async function look(): Promise<void> {
    timer = null;
    looking = true;
    const before = changes;
    const seen = await lookAt(path);
    looking = false;
    if (closed) return;
    const settled = previous !== null && changes === before && sameLook(previous, seen);
    previous = settled ? null : seen;
    if (!settled) return schedule(intervalMs);
    if ('error' in seen) {
      reported = null;
      return options.onError(seen.error);
    }
    if (seen.hash === reported) return;
    reported = seen.hash;
    options.onChange(seen.content, seen.hash);
  }

  const listener = (current: Stats, prior: Stats) => {
    // watchFile reports every stat change, atime aside; the look decides what it means.
    if (current.mtimeMs === prior.mtimeMs && current.ctimeMs === prior.ctimeMs && current.ino === prior.ino && current.size === prior.size && current.dev === prior.dev) return;
    changes++;
    // A look in progress or scheduled will see this change; otherwise start one now.
    schedule(0);
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  // watchFile's first stat is taken a moment after this, and a change in between
  // would never be reported: one settle cycle now compares the file with the
  // content read above.
  schedule(0);

  return {
    close() {
      if (closed) return;
      closed = true;
      unwatchFile(path, listener);
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

export function contentHash(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

function hashOrNull(path: string): string | null {
  try {
    return contentHash(readFileSync(path));
  } catch {
    return null;
  }
}

async function lookAt(path: string): Promise<Look> {
  let signature = 'missing';
  try {
    const stats = await stat(path);
    signature = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
    const content = await readFile(path);
    return { signature, content, hash: contentHash(content) };
  } catch (err) {
    return { signature, error: err as Error };
  }
}

function sameLook(a: Look, b: Look): boolean {
  if (a.signature !== b.signature) return false;
  if ('error' in a || 'error' in b) return 'error' in a && 'error' in b && (a.error as NodeJS.ErrnoException).code === (b.error as NodeJS.ErrnoException).code;
  return a.hash === b.hash;
}
