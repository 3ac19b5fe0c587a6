import type { Redis } from 'ioredis';
import { authSummary } from '../auth/schema.ts';
import type { Payload } from '../message/payload.ts';
import type { EmailAddress } from '../message/types.ts';
import type { DeliveryJob } from '../queue/deliveries.ts';
import type { DeliveryAdmin, DeliveryView } from './admin.ts';

/**
 * The message index: one summary per accepted message, so that the admin API
 * and the console can list and search messages without reading every job. The
 * whole payload stays in the delivery jobs; this holds only what a list shows
 * and a search matches. In Redis under the installation's prefix:
 *
 *   <prefix>:messages            sorted set, queue id scored by receive time (ms)
 *   <prefix>:message:<queueId>   JSON summary, expiring after MXPOST_RETENTION
 */
export interface MessageSummary {
  readonly queueId: string;
  readonly receivedAt: string;
  readonly mailFrom: string;
  /** Every accepted recipient, of every route. */
  readonly rcptTo: readonly string[];
  readonly from: readonly EmailAddress[];
  /** The To and Cc header addresses. */
  readonly to: readonly EmailAddress[];
  readonly subject: string;
  readonly messageId: string | null;
  /** The routes-file domains the message went to, one per delivery. */
  readonly routes: readonly string[];
  readonly deliveries: readonly string[];
  /** Recipients a routing rule dropped: accepted, and delivered nowhere. */
  readonly dropped?: readonly { readonly recipient: string; readonly rule: string }[];
  readonly auth: AuthSummary | null;
  readonly size: number;
  readonly attachments: number;
  readonly remoteAddress: string;
}

export interface AuthSummary {
  readonly spf: string;
  /** pass when any signature passes; else the first signature's result; none when unsigned. */
  readonly dkim: string;
  readonly dmarc: string;
  readonly arc: string;
  readonly quarantined: boolean;
}

export interface MessageQuery {
  /** Free text: subject, any address or name, Message-ID, queue or delivery id. */
  readonly q?: string | undefined;
  /** Envelope sender or From header. */
  readonly from?: string | undefined;
  /** Envelope recipients or To/Cc headers. */
  readonly to?: string | undefined;
  readonly route?: string | undefined;
  /** Receive-time bounds, ms since the epoch, inclusive. */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  /** Where the previous page ended (from `nextCursor`). */
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

// A summary is for a list row: long subjects and huge recipient lists are cut.
const SUBJECT_CHARS = 500;
const ADDRESSES = 50;
// Summaries read per Redis round trip, and at most per search request: a search
// that matches little stops there and hands back a cursor to go on from.
const BATCH = 200;
const SCAN_LIMIT = 5000;

// KEYS: the summary, the sorted set. ARGV: summary JSON, retention ms, receive time, queue id, trim bound.
const RECORD_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

/** A message as accepted: the jobs stored for it, and the recipients rules dropped. */
export interface AcceptedMessage {
  readonly queueId: string;
  readonly jobs: readonly DeliveryJob[];
  readonly dropped: readonly { readonly recipient: string; readonly domain: string; readonly rule: string }[];
  /** A payload of the message, for what every delivery shares: the first job's, or one made for the dropped. */
  readonly payload: Payload;
}

/** The summary of one accepted message, from what the receiver stored (or dropped) for it. */
export function summarizeMessage(accepted: AcceptedMessage): MessageSummary {
  const { jobs, dropped } = accepted;
  const first = accepted.payload;
  const m = first.message;
  const auth = first.auth;
  const cut = (list: readonly EmailAddress[]) => list.slice(0, ADDRESSES).map((a) => ({ name: a.name.slice(0, 200), address: a.address.slice(0, 320) }));
  return {
    queueId: accepted.queueId,
    receivedAt: first.receivedAt,
    mailFrom: first.envelope.mailFrom,
    rcptTo: [...jobs.flatMap((job) => job.payload.envelope.rcptTo), ...dropped.map((d) => d.recipient)],
    from: cut(m.from),
    to: cut([...m.to, ...m.cc]),
    subject: m.subject.slice(0, SUBJECT_CHARS),
    messageId: m.messageId?.slice(0, 500) ?? null,
    routes: [...new Set([...jobs.map((job) => job.domain), ...dropped.map((d) => d.domain)])],
    deliveries: jobs.map((job) => job.deliveryId),
    ...(dropped.length > 0 ? { dropped: dropped.slice(0, ADDRESSES).map(({ recipient, rule }) => ({ recipient, rule })) } : {}),
    auth: auth
      ? { ...authSummary(auth), quarantined: auth.quarantined }
      : null,
    size: m.size,
    attachments: m.attachments.length,
    remoteAddress: first.envelope.remoteAddress,
  };
}

/** Whether a summary answers the query's text filters (times are matched by Redis). */
export function matchesQuery(s: MessageSummary, query: MessageQuery): boolean {
  const has = (needle: string | undefined, fields: readonly (string | null)[]) => {
    if (!needle) return true;
    const n = needle.trim().toLowerCase();
    return fields.some((f) => f !== null && f.toLowerCase().includes(n));
  };
  const names = (list: readonly EmailAddress[]) => list.flatMap((a) => [a.address, a.name]);
  const from = [s.mailFrom, ...names(s.from)];
  const to = [...s.rcptTo, ...names(s.to)];
  if (query.route && !s.routes.includes(query.route)) return false;
  return has(query.from, from) && has(query.to, to) && has(query.q, [s.subject, s.messageId, s.queueId, ...s.deliveries, ...from, ...to]);
}

/**
 * The query of `GET /v1/messages` and of the console's message list, from URL
 * parameters (`q`, `from`, `to`, `route`, `since`, `until`, `cursor`, `limit`).
 */
export function parseMessageQuery(params: URLSearchParams): MessageQuery | { error: string } {
  const text = (name: string) => params.get(name)?.trim().slice(0, 320) || undefined;
  const time = (name: string) => {
    const value = text(name);
    return value === undefined ? undefined : Date.parse(value);
  };
  const [since, until] = [time('since'), time('until')];
  if (Number.isNaN(since) || Number.isNaN(until)) return { error: 'since and until must be ISO 8601 times' };
  const cursor = text('cursor');
  if (cursor !== undefined && decodeCursor(cursor) === null) return { error: 'cursor must be a nextCursor from an earlier answer' };
  const limit = params.get('limit') === null ? undefined : Number(params.get('limit'));
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0 && limit <= 200)) return { error: 'limit must be 1 to 200' };
  return { q: text('q'), from: text('from'), to: text('to'), route: text('route')?.toLowerCase(), since, until, cursor, limit };
}

interface Cursor {
  readonly at: number;
  readonly queueId: string;
}
const encodeCursor = (c: Cursor) => `${c.at}.${c.queueId}`;
export function decodeCursor(text: string): Cursor | null {
  const match = /^(\d{1,15})\.([0-9A-Z]{26})$/.exec(text);
  return match ? { at: Number(match[1]), queueId: match[2]! } : null;
}

export function createMessageIndex(options: { redis: Redis; prefix: string; retentionMs: number; now?: () => number }) {
  const { redis, retentionMs } = options;
  const now = options.now ?? Date.now;
  const setKey = `${options.prefix}:messages`;
  const key = (queueId: string) => `${options.prefix}:message:${queueId}`;

  async function get(queueId: string): Promise<MessageSummary | null> {
    const text = await redis.get(key(queueId));
    return text ? (JSON.parse(text) as MessageSummary) : null;
  }

  /**
   * Records one accepted message: one round trip, which also drops entries
   * older than the retention from the set (their summaries have expired).
   * One script rather than MULTI: an ioredis MULTI is a Pipeline, which copies
   * every BullMQ script defined on the connection onto itself, for each message.
   */
  async function record(summary: MessageSummary): Promise<void> {
    await redis.eval(RECORD_SCRIPT, 2, key(summary.queueId), setKey, JSON.stringify(summary), retentionMs, Date.parse(summary.receivedAt), summary.queueId, `(${now() - retentionMs}`);
  }

  return {
    retentionMs,
    get,
    record,
    /** Records the message of these jobs, all of one queue id; async, so a bad payload rejects rather than throws. */
    async recordAccepted(accepted: AcceptedMessage): Promise<void> {
      await record(summarizeMessage(accepted));
    },
    /** Newest first; `nextCursor` is null when nothing older is left to look through. */
    async search(query: MessageQuery): Promise<{ messages: MessageSummary[]; nextCursor: string | null }> {
      const limit = query.limit ?? 50;
      const cursor = query.cursor ? decodeCursor(query.cursor) : null;
      const floor = Math.max(query.since ?? 0, now() - retentionMs);
      const ceiling = Math.min(query.until ?? Number.POSITIVE_INFINITY, cursor?.at ?? Number.POSITIVE_INFINITY);
      const found: MessageSummary[] = [];
      let scanned = 0;
      let last: Cursor | null = null;
      for (let offset = 0; ; offset += BATCH) {
        const ids = await redis.zrange(setKey, ceiling === Number.POSITIVE_INFINITY ? '+inf' : String(ceiling), String(floor), 'BYSCORE', 'REV', 'LIMIT', offset, BATCH);
        const texts = ids.length > 0 ? await redis.mget(ids.map(key)) : [];
        for (const text of texts) {
          if (!text) continue; // expired: the set is trimmed on the next write
          const summary = JSON.parse(text) as MessageSummary;
          // Members sharing the cursor's millisecond come in reverse id order: skip those already shown.
          if (cursor && Date.parse(summary.receivedAt) === cursor.at && summary.queueId >= cursor.queueId) continue;
          scanned++;
          last = { at: Date.parse(summary.receivedAt), queueId: summary.queueId };
          if (matchesQuery(summary, query)) found.push(summary);
          if (found.length === limit || scanned >= SCAN_LIMIT) return { messages: found, nextCursor: encodeCursor(last) };
        }
        if (ids.length < BATCH) return { messages: found, nextCursor: null };
      }
    },
    /** The receive time of the oldest message still kept, or null when there is none. */
    async oldest(): Promise<string | null> {
      const [id] = await redis.zrangebyscore(setKey, String(now() - retentionMs), '+inf', 'LIMIT', 0, 1);
      return id ? ((await get(id))?.receivedAt ?? null) : null;
    },
  };
}

export type MessageIndex = ReturnType<typeof createMessageIndex>;

/** A message row: the summary and where each of its deliveries stands. */
export interface MessageRow extends MessageSummary {
  readonly states: Readonly<Record<string, string>>;
}

/** Message reading for the admin API and the console: the index, joined with the deliveries. */
export function createMessageAdmin(index: MessageIndex, deliveries: DeliveryAdmin) {
  return {
    retentionMs: index.retentionMs,
    oldest: () => index.oldest(),
    async list(query: MessageQuery): Promise<{ messages: MessageRow[]; nextCursor: string | null; oldest: string | null }> {
      const [page, oldest] = await Promise.all([index.search(query), index.oldest()]);
      const states = await deliveries.states(page.messages.flatMap((m) => m.deliveries));
      const messages = page.messages.map((m) => ({ ...m, states: Object.fromEntries(m.deliveries.map((id) => [id, states.get(id) ?? 'unknown'])) }));
      return { messages, nextCursor: page.nextCursor, oldest };
    },
    /** The summary, every delivery with its attempts, and the payload as first delivered. */
    async show(queueId: string): Promise<{ message: MessageSummary; deliveries: DeliveryView[]; payload: Payload | null } | null> {
      const message = await index.get(queueId);
      if (!message) return null;
      const views = (await Promise.all(message.deliveries.map((id) => deliveries.show(id)))).filter((v): v is DeliveryView => v !== null);
      const payload = views.length > 0 ? await deliveries.payload(views[0]!.id) : null;
      return { message, deliveries: views, payload };
    },
  };
}

export type MessageAdmin = ReturnType<typeof createMessageAdmin>;
