// The bench's output: Markdown tables, so that a run pastes into bench/RESULTS.md as it is.
import type { CellResult } from './acceptance.ts';
import type { BigResult } from './big.ts';
import type { EndToEnd } from './e2e.ts';
import type { ProfileSummary } from './profile.ts';
import type { System, SystemId } from './systems.ts';

export interface Report {
  readonly header: readonly string[];
  readonly systems: readonly System[];
  readonly cells: readonly CellResult[];
  readonly endToEnd: readonly EndToEnd[];
  readonly big: readonly BigResult[];
  /** `cpuMsPerMessage` from /proc, which splits the way the samples do. */
  readonly profiles: readonly { label: string; cpuMsPerMessage: number; summary: ProfileSummary; files: string }[];
}

const MB = 1024 * 1024;
const fmt = (n: number | null | undefined, digits = 0) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
const mb = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '–' : `${Math.round(bytes / MB)}`);
const row = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]) => [row(head), row(head.map(() => '---')), ...rows.map(row)];

export function formatReport(report: Report): string {
  const label = (id: SystemId) => report.systems.find((s) => s.id === id)?.label ?? id;
  const median = (like: CellResult, id: SystemId) =>
    report.cells.find((c) => c.size === like.size && c.sessions === like.sessions && c.connections === like.connections && c.system === id)?.rate?.median ?? null;
  const runs = Math.max(0, ...report.cells.map((c) => c.runs.length));
  const out: string[] = [...report.header, ''];

  out.push(
    `## SMTP acceptance, messages/s (median of ${runs} run${runs === 1 ? '' : 's'}, with min and max)`,
    '',
    "CPU ms/msg: user + system CPU time of the system's own processes per message, from `/proc` (with a worker, until the backlog is drained), " +
      "and for mxpost that of redis-server after the +. The load generator's own CPU counts for no system.",
    '',
  );
  out.push(
    ...table(
      ['connections', 'message', 'sessions', 'system', 'msg/s', 'min', 'max', '÷ Haraka', '÷ smtp-sink', 'CPU ms/msg'],
      report.cells.map((c) => {
        const haraka = median(c, 'haraka');
        const sink = median(c, 'smtp-sink');
        const m = c.rate?.median ?? null;
        return [
          c.connections === 'new' ? 'new per message' : 'kept (-d)',
          c.size,
          c.sessions,
          label(c.system),
          c.error && !c.rate ? `failed: ${c.error}` : `${fmt(m)}${c.error ? ` (then failed: ${c.error})` : ''}`,
          fmt(c.rate?.min),
          fmt(c.rate?.max),
          m !== null && haraka ? fmt(m / haraka, 2) : '–',
          m !== null && sink ? fmt(m / sink, 2) : '–',
          c.cpuMsPerMessage === null ? '–' : `${fmt(c.cpuMsPerMessage, 2)}${c.redisCpuMsPerMessage !== null ? ` + ${fmt(c.redisCpuMsPerMessage, 2)} Redis` : ''}`,
        ];
      }),
    ),
    '',
  );

  if (report.endToEnd.length > 0) {
    out.push('## End to end at half the highest acceptance rate measured, 250 → endpoint receives the POST', '');
    out.push('A new connection per message, paced (open loop); latency is from the 250 reply to the endpoint receiving the POST.', '');
    out.push(
      ...table(
        ['system', 'offered msg/s', 'seconds', 'accepted', 'refused', 'delivered/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'backlog max', 'backlog first ¼ → last ¼', 'backlog grows'],
        report.endToEnd.map((e) => [
          label(e.system),
          fmt(e.offeredRate),
          fmt(e.seconds, 1),
          e.accepted,
          `${e.refused + e.skipped}${e.refused + e.skipped > 0 ? ` (${[...Object.entries(e.refusals).map(([code, n]) => `${code === '0' ? 'no reply' : code} × ${n}`), ...(e.skipped ? [`not sent × ${e.skipped}`] : [])].join(', ')})` : ''}`,
          fmt(e.deliveredRate),
          fmt(e.latency?.p50, 1),
          fmt(e.latency?.p95, 1),
          fmt(e.latency?.p99, 1),
          fmt(e.latency?.max, 1),
          e.backlog.max,
          `${fmt(e.backlog.firstQuarter, 1)} → ${fmt(e.backlog.lastQuarter, 1)}`,
          e.backlog.grows ? '**yes**' : 'no',
        ]),
      ),
      '',
    );
  }

  out.push(...memoryTables(report), '');
  for (const p of report.profiles) out.push(...profileTables(p), '');
  return out.join('\n');
}

function memoryTables(report: Report): string[] {
  const mxpost = report.cells.filter((c) => c.system.startsWith('mxpost-'));
  const key = (c: CellResult) => `${c.size} × ${c.sessions} ${c.connections}`;
  const columns = [...new Set(mxpost.map(key))];
  const names = [...new Set([...mxpost.flatMap((c) => Object.keys(c.peakRss)), ...report.endToEnd.flatMap((e) => Object.keys(e.peakRss))])];
  const head = ['process', ...columns, ...(report.endToEnd.length ? ['end to end'] : []), ...(report.big.length ? [`${report.big[0]!.count} × 20 MB at once`] : [])];
  const rows = names.map((name) => [
    name,
    ...columns.map((col) => mb(mxpost.find((c) => key(c) === col && name in c.peakRss)?.peakRss[name])),
    ...(report.endToEnd.length ? [mb(report.endToEnd.find((e) => name in e.peakRss)?.peakRss[name])] : []),
    ...(report.big.length ? [mb(report.big.find((b) => name in b.peakRss)?.peakRss[name])] : []),
  ]);
  const out = ['## Memory: peak RSS of each mxpost process, MiB', '', ...table(head, rows), ''];
  for (const b of report.big) {
    out.push(`- ${b.count} × 20 MB to ${b.system}: accepted in ${fmt(b.acceptSeconds, 1)} s, ${b.delivered} delivered${b.error ? `; ${b.error}` : ''}`);
  }
  const redis = [...new Set(mxpost.map((c) => c.size))].map((size) => {
    const per = mxpost.filter((c) => c.size === size && c.redisBytesPerMessage !== null).map((c) => c.redisBytesPerMessage!);
    per.sort((a, b) => a - b);
    return [size, per.length ? fmt(per[Math.floor(per.length / 2)]! / 1024, 1) : '–'];
  });
  out.push('', '## Redis memory per queued message (receiver alone, nothing consuming), KiB', '', ...table(['message', 'KiB per message'], redis));
  return out;
}

function profileTables(p: Report['profiles'][number]): string[] {
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  // Sampled time also counts moments the process waited for a core: the shares
  // are what the samples tell, the milliseconds are those shares of the CPU time.
  const perMessage = (ms: number) => fmt((ms / Math.max(1e-9, p.summary.busyMs)) * p.cpuMsPerMessage, 3);
  // Components are named "stage: what"; the stage table adds them up.
  const stages = new Map<string, { ms: number; share: number }>();
  for (const c of p.summary.stages) {
    const stage = c.stage.split(':')[0]!;
    const total = stages.get(stage) ?? { ms: 0, share: 0 };
    stages.set(stage, { ms: total.ms + c.ms, share: total.share + c.share });
  }
  return [
    `## Profile of the mxpost receiver: ${p.label}`,
    '',
    `${fmt(p.summary.busyMs / 1000, 1)} s sampled on CPU, ${fmt(p.summary.idleMs / 1000, 1)} s idle. Files: ${p.files}`,
    '',
    ...table(['stage', 'CPU ms per message', 'share'], [...stages].sort((a, b) => b[1].ms - a[1].ms).map(([stage, t]) => [stage, perMessage(t.ms), pct(t.share)])),
    '',
    ...table(['component', 'CPU ms per message', 'share'], p.summary.stages.map((s) => [s.stage, perMessage(s.ms), pct(s.share)])),
    '',
    ...table(['function (self time)', 'where', 'CPU ms per message', 'share'], p.summary.functions.slice(0, 25).map((f) => [`\`${f.name}\``, f.where, perMessage(f.ms), pct(f.share)])),
  ];
}
