// Child processes of the bench: each writes its output to its own log file
// (so that the bench spends no CPU reading it), is awaited until it serves,
// and is stopped by its own pid. Memory is read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly log: string;
  stop(): Promise<void>;
}

export function spawnLogged(name: string, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; logDir: string }): Child {
  const log = join(options.logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start ${name} (${command})`);
  const pid = child.pid;
  let stopping: Promise<void> | null = null;
  return {
    name,
    process: child,
    pid,
    log,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        // Graceful first (the profile of --cpu-prof is written at exit); then no waiting.
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Resolves once a connection to the port is greeted with 220, or fails after `timeoutMs`. */
export async function waitForSmtp(port: number, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (${child.process.exitCode}) before it served; see ${child.log}`);
    if (await greets(port)) return;
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer on port ${port} within ${timeoutMs} ms; see ${child.log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let greeted = false;
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('error', () => socket.destroy());
    socket.once('close', () => resolve(greeted));
    socket.once('data', (chunk: Buffer) => {
      greeted = chunk.toString('latin1').startsWith('220');
      // Say goodbye properly, so that the server logs no broken session.
      if (greeted) socket.end('QUIT\r\n');
      else socket.destroy();
    });
  });
}

/** Resolves with the first log line that matches, or fails after `timeoutMs`. */
export async function waitForLog(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = readFileSync(child.log, 'utf8')
      .split('\n')
      .find((l) => pattern.test(l));
    if (line) return line;
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (${child.process.exitCode}) before it started; see ${child.log}`);
    if (Date.now() > deadline) throw new Error(`${child.name} did not log ${pattern} within ${timeoutMs} ms; see ${child.log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Peak resident set size (VmHWM) since start or since the last resetPeakRss, in bytes. */
export function peakRss(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Resets VmHWM to the current RSS (Linux `clear_refs` value 5), so that the
 * next peakRss covers one load only without restarting the process.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every platform Node runs on.
const TICK_MS = 10;

/**
 * CPU time (user + system) that a process and its descendants have used, in
 * milliseconds; null without /proc. CPU per message is the measure that other
 * work on the machine barely moves, unlike messages per second.
 */
export function cpuTimeMs(pid: number): number | null {
  try {
    // The fields after the command name, which may itself hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) {
      ms += cpuTimeMs(Number(child)) ?? 0;
    }
    return ms;
  } catch {
    return null;
  }
}

/** The pid of the process whose command line contains every one of `parts`, or null. */
export function findPid(...parts: string[]): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (parts.every((part) => cmdline.includes(part))) return Number(entry);
      } catch {
        // The process ended while the list was read.
      }
    }
  } catch {
    // No /proc.
  }
  return null;
}
