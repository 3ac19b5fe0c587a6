// Reads a V8 .cpuprofile (node --cpu-prof) of the mxpost receiver: where the
// time goes by function (self time) and by pipeline stage and component. A sample
// belongs to the innermost frame that is ours or a known package's, so time
// in Node internals (a hash, a Buffer copy, JSON.stringify) counts for the
// stage that asked for it. Also writes folded stacks for a flame graph
// (speedscope, or flamegraph.pl).
import { readFileSync, writeFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Milliseconds sampled, idle excluded. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly stages: readonly { stage: string; ms: number; share: number }[];
  readonly functions: readonly { name: string; where: string; ms: number; share: number }[];
}

// Each frame is matched as "functionName url"; for a frame several could match,
// the first in this list wins, so the more specific patterns come first.
const STAGES: readonly [string, RegExp][] = [
  ['MIME: structure pre-pass (src/message/structure.ts)', /\/src\/message\/structure\.ts/],
  ['MIME: reply extraction (src/message/reply*.ts)', /\/src\/message\/reply/],
  ['MIME: payload and attachments (build.ts, attachments.ts)', /\/src\/message\/(build|attachments)\.ts/],
  ['MIME: message document (src/message: headers, addresses, dates)', /\/src\/message\//],
  ['MIME: mailparser, mailsplit, libmime, libqp, libbase64', pkg('mailparser|@zone-eu|libmime|libqp|libbase64|iconv-lite|encoding-japanese|html-to-text|@selderee|selderee|htmlparser2|domhandler|domutils|dom-serializer|entities|deepmerge|leac|parseley|linkify-it|uc\\.micro|he|tlds|punycode')],
  ['auth: DNS resolver and cache (src/auth)', /\/src\/auth\/(resolver|dns-|scoped)/],
  ['auth: checks orchestration and verdicts (src/auth)', /\/src\/auth\//],
  ['auth: DKIM key parsing (mailauth getPublicKey)', /^(getPublicKey|exportPublicKey) /],
  ['auth: DKIM verify and body hash (mailauth)', /mailauth\/lib\/dkim\/|^verifySignature /],
  ['auth: SPF (mailauth)', /mailauth\/lib\/spf\//],
  ['auth: DMARC (mailauth)', /mailauth\/lib\/dmarc\//],
  ['auth: other mailauth (tools, ARC, PSL)', pkg('mailauth|psl|tldts|ipaddr\\.js|punycode\\.js')],
  ['enqueue: message index (src/delivery/messages.ts)', /\/src\/delivery\/messages\.ts/],
  ['enqueue: src/queue (store, durability)', /\/src\/queue\//],
  ['enqueue: BullMQ', pkg('bullmq')],
  ['enqueue: ioredis, msgpackr', pkg('ioredis|@ioredis|msgpackr|denque|cluster-key-slot|redis-errors|redis-parser|standard-as-callback')],
  ['SMTP: DATA collection, line endings (src/smtp)', /\/src\/smtp\/(collect|line-endings|data)\.ts/],
  ['SMTP: session policy (src/smtp)', /\/src\/smtp\//],
  ['SMTP: smtp-server', pkg('smtp-server')],
  ['logging: pino', pkg('pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|@pinojs|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify')],
  ['validation: zod', pkg('zod')],
  ['tracing: OpenTelemetry', pkg('@opentelemetry\\/[^/]+')],
  ['mxpost: roles, routing, config, delivery', /\/src\/(roles|routing|config|delivery|http|cli|observability)\//],
];

function pkg(names: string): RegExp {
  return new RegExp(`node_modules/(${names})/`);
}

export function summarizeProfile(path: string, options: { window?: readonly [number, number]; foldedPath?: string } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const [from, to] = options.window ?? [-Infinity, Infinity];
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from && at <= to) self.set(id, (self.get(id) ?? 0) + delta / 1000);
  });

  const stageOf = new Map<number, string>();
  const stage = (id: number): string => {
    const cached = stageOf.get(id);
    if (cached) return cached;
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    let result: string;
    if (name === '(garbage collector)') result = 'GC: garbage collection';
    else if (name === '(program)') result = 'V8: (program), native code outside JS';
    else {
      const frame = `${name} ${node.callFrame.url}`;
      const match = STAGES.find(([, pattern]) => pattern.test(frame));
      const up = parent.get(id);
      result = match ? match[0] : up !== undefined && byId.get(up)!.callFrame.functionName !== '(root)' ? stage(up) : 'Node core alone (sockets, streams, microtasks)';
    }
    stageOf.set(id, result);
    return result;
  };

  let idleMs = 0;
  let busyMs = 0;
  const stages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const s = stage(id);
    stages.set(s, (stages.get(s) ?? 0) + ms);
    const name = node.callFrame.functionName || '(anonymous)';
    const where = node.callFrame.url ? `${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
  }

  if (options.foldedPath) writeFileSync(options.foldedPath, folded(byId, parent, self));
  const share = (ms: number) => ms / Math.max(busyMs, 1e-9);
  return {
    busyMs,
    idleMs,
    stages: [...stages].map(([s, ms]) => ({ stage: s, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    functions: [...functions.values()].map((f) => ({ ...f, share: share(f.ms) })).sort((a, b) => b.ms - a.ms),
  };
}

/** `node_modules/pkg/lib/file.js` or `src/dir/file.ts`, whatever the checkout's path. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  const src = path.lastIndexOf('/src/');
  return src >= 0 ? path.slice(src + 1) : path;
}

/** One line per stack, `caller;callee microseconds`, the folded format of flame graph tools. */
function folded(byId: Map<number, ProfileNode>, parent: Map<number, number>, self: Map<number, number>): string {
  const lines: string[] = [];
  for (const [id, ms] of self) {
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName === '(root)') break;
      frames.unshift(`${frame.functionName || '(anonymous)'} ${frame.url ? shortUrl(frame.url) : ''}`.trim().replace(/;/g, ','));
    }
    const count = Math.round(ms * 1000);
    if (count > 0) lines.push(`${frames.join(';')} ${count}`);
  }
  return lines.join('\n') + '\n';
}
