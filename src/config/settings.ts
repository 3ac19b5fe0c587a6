import { hostname } from 'node:os';
import { z } from 'zod';
import type { DnsServerAddress } from '../auth/dns-client.ts';
import { parseDnsServers } from '../auth/resolver.ts';
import type { DurabilityMode } from '../queue/connection.ts';
import { parseTrustedProxies, type TrustedProxies } from '../smtp/addresses.ts';
import type { SessionLimits } from '../smtp/limits.ts';
import type { ProxyMode } from '../smtp/proxy-protocol.ts';
import type { TlsFiles } from '../smtp/tls.ts';
import { parseDuration } from './duration.ts';
import { readEnvValue } from './env-value.ts';

/**
 * Process settings, all from `MXPOST_*` environment variables (each may also be
 * read from `<NAME>_FILE`). Every variable is listed with its default in
 * `.env.example`; a test keeps the two in step.
 */
export interface Settings {
  /** Redis holding the delivery queue. */
  readonly redisUrl: string;
  /** Key prefix in Redis, so that several installations can share one server. */
  readonly redisPrefix: string;
  /** SMTP listen address. */
  readonly smtpHost: string;
  /** SMTP port: 2525 unprivileged in the container; the Service maps port 25 to it. */
  readonly smtpPort: number;
  /** Name in the SMTP greeting and in Received headers. */
  readonly hostname: string;
  /** HTTP listen address and port for health, readiness (and later metrics and admin). */
  readonly httpHost: string;
  readonly httpPort: number;
  /** Path of the routes file. */
  readonly routesPath: string;
  /** Largest message accepted, in bytes. */
  readonly maxMessageBytes: number;
  readonly logLevel: LogLevel;
  /** How long DATA waits for Redis to store the deliveries before answering 451. */
  readonly enqueueTimeoutMs: number;
  /** How long SIGTERM waits for SMTP sessions and deliveries in progress. */
  readonly shutdownTimeoutMs: number;
  /** Deadline of one webhook request, connect to last body byte. */
  readonly deliveryTimeoutMs: number;
  /** Webhook requests in flight per worker process. */
  readonly deliveryConcurrency: number;
  /** The first retry delay (doubling each time, with jitter) and the longest single wait. */
  readonly retryDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** How long delivered jobs, dead letters and attempt records are kept. */
  readonly retentionMs: number;
  /** Whether endpoints may be on loopback or private addresses, unless a route says otherwise. */
  readonly allowPrivateEndpoints: boolean;
  /** Bearer token of the admin API; empty: the admin API is off. */
  readonly adminToken: string;
  /** Recursive DNS resolvers for authentication; null: the system's (/etc/resolv.conf). */
  readonly dnsServers: readonly DnsServerAddress[] | null;
  /** Deadline of one DNS lookup, retries included. */
  readonly dnsTimeoutMs: number;
  /** Deadline of all authentication checks of one message, from the final dot. */
  readonly authTimeoutMs: number;
  /** RFC 8601 authserv-id in Authentication-Results; defaults to `hostname`. */
  readonly authservId: string;
  /** The SMTP receiver's session limits, each with its reply: docs/smtp.md. */
  readonly smtpLimits: SessionLimits;
  /** STARTTLS certificate and key files, reloaded when they change; null: no STARTTLS. */
  readonly tls: TlsFiles | null;
  /** PROXY protocol in front of SMTP, believed only from `proxyTrusted`. */
  readonly proxyProtocol: ProxyMode;
  readonly proxyTrusted: TrustedProxies;
  /** New transactions get 451 4.3.2 past this many deliveries not done, or this share of Redis maxmemory. */
  readonly maxBacklog: number;
  readonly redisMemoryLimitPercent: number;
  /** What a 250 waits for in Redis (src/queue/connection.ts), and how many replicas must have the jobs. */
  readonly durability: DurabilityMode;
  readonly redisMinReplicas: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const boolean = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');
const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 15m, 24h or 7d' });
    return z.NEVER;
  }
  return ms;
});

const dnsServers = z.string().transform((text, ctx) => {
  try {
    return parseDnsServers(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const trustedProxies = z.string().transform((text, ctx) => {
  try {
    return parseTrustedProxies(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
// The variable is the file's path, so that the file can change under a running
// process; `<NAME>_FILE` would put the PEM itself here.
const pemPath = z.string().refine((text) => !/[\r\n]|-----BEGIN/.test(text), 'must be the path of a PEM file, not its content');

/** One row per variable: its schema and its default, as written in `.env.example`. */
export const SETTINGS = {
  MXPOST_REDIS_URL: { schema: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://'), default: 'redis://127.0.0.1:6379' },
  MXPOST_REDIS_PREFIX: { schema: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only'), default: 'mxpost' },
  MXPOST_SMTP_HOST: { schema: z.string().min(1), default: '0.0.0.0' },
  MXPOST_SMTP_PORT: { schema: int(0, 65535), default: '2525' },
  // Empty: the machine's host name (the pod name on Kubernetes).
  MXPOST_HOSTNAME: { schema: z.string(), default: '' },
  MXPOST_HTTP_HOST: { schema: z.string().min(1), default: '0.0.0.0' },
  MXPOST_HTTP_PORT: { schema: int(0, 65535), default: '8080' },
  MXPOST_ROUTES: { schema: z.string().min(1), default: 'routes.yaml' },
  // 25 MiB: what Gmail and Mailgun accept; larger mail rarely reaches an MX at all.
  MXPOST_MAX_MESSAGE_BYTES: { schema: int(1024, 1024 ** 3), default: String(25 * 1024 * 1024) },
  MXPOST_LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info' },
  // Well under the sender's own DATA timeout (RFC 5321: 10 minutes for the final dot).
  MXPOST_ENQUEUE_TIMEOUT_MS: { schema: int(100, 60_000), default: '5000' },
  // Below Kubernetes' default terminationGracePeriodSeconds (30 s).
  MXPOST_SHUTDOWN_TIMEOUT_MS: { schema: int(0, 600_000), default: '25000' },
  MXPOST_DELIVERY_TIMEOUT_MS: { schema: int(100, 300_000), default: '30000' },
  MXPOST_DELIVERY_CONCURRENCY: { schema: int(1, 1000), default: '16' },
  // 10 s, 20 s, 40 s … then hourly: about 30 attempts in the default 24 h window.
  MXPOST_RETRY_DELAY_MS: { schema: int(1, 3_600_000), default: '10000' },
  MXPOST_RETRY_MAX_DELAY_MS: { schema: int(1, 86_400_000), default: '3600000' },
  MXPOST_RETENTION: { schema: duration, default: '7d' },
  // In-cluster endpoints are private addresses, and the operator writes the routes.
  MXPOST_ALLOW_PRIVATE_ENDPOINTS: { schema: boolean, default: 'true' },
  MXPOST_ADMIN_TOKEN: { schema: z.string().refine((t) => t === '' || t.length >= 16, 'must be at least 16 characters (or empty to turn the admin API off)'), default: '' },
  // Empty: the system's resolvers. Production: a local caching resolver.
  MXPOST_DNS_SERVERS: { schema: dnsServers, default: '' },
  // Two tries per lookup fit in it; an SPF chain of a few slow lookups still ends within the auth deadline.
  MXPOST_DNS_TIMEOUT_MS: { schema: int(100, 30_000), default: '2000' },
  // The reply to the final dot waits at most this long for SPF, DKIM, DMARC and ARC; the rest is temperror.
  MXPOST_AUTH_TIMEOUT_MS: { schema: int(100, 60_000), default: '5000' },
  // Empty: MXPOST_HOSTNAME. Several receivers of one installation should share one (RFC 8601 section 2.5).
  MXPOST_AUTHSERV_ID: { schema: z.string().regex(/^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]*$/, 'must be a single token, such as a host name'), default: '' },
  // The SMTP receiver (docs/smtp.md gives each limit's reason and reply).
  MXPOST_TLS_CERT: { schema: pemPath, default: '' },
  MXPOST_TLS_KEY: { schema: pemPath, default: '' },
  MXPOST_PROXY_PROTOCOL: { schema: z.enum(['off', 'v1', 'v2', 'auto']), default: 'off' },
  MXPOST_PROXY_TRUSTED: { schema: trustedProxies, default: '' },
  // RFC 5321 4.5.3.1.8: a server must accept at least 100 recipients per message.
  MXPOST_MAX_RECIPIENTS: { schema: int(100, 100_000), default: '100' },
  MXPOST_MAX_CONNECTIONS: { schema: int(1, 1_000_000), default: '1000' },
  // Per IPv4 address or IPv6 /64. Large senders open a handful in parallel.
  MXPOST_MAX_CONNECTIONS_PER_CLIENT: { schema: int(1, 1_000_000), default: '20' },
  MXPOST_MAX_MESSAGES_PER_CONNECTION: { schema: int(1, 1_000_000), default: '100' },
  // smtp-server's own fixed limit (unknown commands only) was 10; Postfix's is 20.
  MXPOST_MAX_ERRORS: { schema: int(1, 10_000), default: '10' },
  // RFC 5321 4.5.3.1.4 allows 512 octets, ESMTP parameters and UTF-8 addresses more.
  MXPOST_MAX_COMMAND_BYTES: { schema: int(512, 1024 * 1024), default: '2048' },
  // Postfix keeps 100 KiB of header, Exim 1 MiB; long ARC and DKIM chains stay far below this.
  MXPOST_MAX_HEADER_BYTES: { schema: int(1024, 64 * 1024 * 1024), default: '262144' },
  // RFC 5321 4.5.3.2.7: a server waits at least 5 minutes for the next command.
  MXPOST_IDLE_TIMEOUT_MS: { schema: int(100, 3_600_000), default: '300000' },
  // DATA gets 5 minutes plus a second per MXPOST_DATA_MIN_RATE bytes (Postfix's smtpd_min_data_rate idea).
  MXPOST_DATA_TIMEOUT_MS: { schema: int(100, 3_600_000), default: '300000' },
  MXPOST_DATA_MIN_RATE: { schema: int(1, 1024 * 1024 * 1024), default: '1024' },
  // Above MXPOST_AUTH_TIMEOUT_MS + MXPOST_ENQUEUE_TIMEOUT_MS, far below the client's own 10 minutes.
  MXPOST_DATA_REPLY_TIMEOUT_MS: { schema: int(100, 600_000), default: '30000' },
  MXPOST_MAX_BACKLOG: { schema: int(1, 1_000_000_000), default: '100000' },
  MXPOST_REDIS_MEMORY_LIMIT_PERCENT: { schema: int(1, 100), default: '90' },
  MXPOST_DURABILITY: { schema: z.enum(['auto', 'fsync', 'memory']), default: 'auto' },
  MXPOST_REDIS_MIN_REPLICAS: { schema: int(0, 64), default: '0' },
} as const;

type Name = keyof typeof SETTINGS;

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid settings:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Reads, validates and freezes the settings; every problem is listed at once. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const problems: string[] = [];
  const values = {} as Record<Name, unknown>;
  for (const [name, { schema, default: fallback }] of Object.entries(SETTINGS) as [Name, (typeof SETTINGS)[Name]][]) {
    let raw: string | undefined;
    try {
      raw = readEnvValue(env, name);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const text = raw === undefined || raw === '' ? fallback : raw;
    const parsed = (schema as z.ZodType).safeParse(text);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name}=${JSON.stringify(text)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const given = values as Partial<Typed>;
  if (Boolean(given.MXPOST_TLS_CERT) !== Boolean(given.MXPOST_TLS_KEY)) problems.push('MXPOST_TLS_CERT and MXPOST_TLS_KEY: set both (for STARTTLS) or neither');
  if (given.MXPOST_PROXY_PROTOCOL !== 'off' && given.MXPOST_PROXY_TRUSTED?.ranges.length === 0) {
    problems.push(`MXPOST_PROXY_TRUSTED: must list the proxies' addresses when MXPOST_PROXY_PROTOCOL=${given.MXPOST_PROXY_PROTOCOL}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  const v = values as Typed;
  return Object.freeze({
    redisUrl: v.MXPOST_REDIS_URL,
    redisPrefix: v.MXPOST_REDIS_PREFIX,
    smtpHost: v.MXPOST_SMTP_HOST,
    smtpPort: v.MXPOST_SMTP_PORT,
    hostname: v.MXPOST_HOSTNAME || hostname(),
    httpHost: v.MXPOST_HTTP_HOST,
    httpPort: v.MXPOST_HTTP_PORT,
    routesPath: v.MXPOST_ROUTES,
    maxMessageBytes: v.MXPOST_MAX_MESSAGE_BYTES,
    logLevel: v.MXPOST_LOG_LEVEL,
    enqueueTimeoutMs: v.MXPOST_ENQUEUE_TIMEOUT_MS,
    shutdownTimeoutMs: v.MXPOST_SHUTDOWN_TIMEOUT_MS,
    deliveryTimeoutMs: v.MXPOST_DELIVERY_TIMEOUT_MS,
    deliveryConcurrency: v.MXPOST_DELIVERY_CONCURRENCY,
    retryDelayMs: v.MXPOST_RETRY_DELAY_MS,
    retryMaxDelayMs: v.MXPOST_RETRY_MAX_DELAY_MS,
    retentionMs: v.MXPOST_RETENTION,
    allowPrivateEndpoints: v.MXPOST_ALLOW_PRIVATE_ENDPOINTS,
    adminToken: v.MXPOST_ADMIN_TOKEN,
    dnsServers: v.MXPOST_DNS_SERVERS,
    dnsTimeoutMs: v.MXPOST_DNS_TIMEOUT_MS,
    authTimeoutMs: v.MXPOST_AUTH_TIMEOUT_MS,
    authservId: v.MXPOST_AUTHSERV_ID || v.MXPOST_HOSTNAME || hostname(),
    smtpLimits: Object.freeze({
      maxConnections: v.MXPOST_MAX_CONNECTIONS,
      maxConnectionsPerClient: v.MXPOST_MAX_CONNECTIONS_PER_CLIENT,
      maxMessagesPerConnection: v.MXPOST_MAX_MESSAGES_PER_CONNECTION,
      maxRecipients: v.MXPOST_MAX_RECIPIENTS,
      maxErrors: v.MXPOST_MAX_ERRORS,
      maxCommandBytes: v.MXPOST_MAX_COMMAND_BYTES,
      maxMessageBytes: v.MXPOST_MAX_MESSAGE_BYTES,
      maxHeaderBytes: v.MXPOST_MAX_HEADER_BYTES,
      idleTimeoutMs: v.MXPOST_IDLE_TIMEOUT_MS,
      dataTimeoutMs: v.MXPOST_DATA_TIMEOUT_MS,
      dataMinRate: v.MXPOST_DATA_MIN_RATE,
      dataReplyTimeoutMs: v.MXPOST_DATA_REPLY_TIMEOUT_MS,
    }),
    tls: v.MXPOST_TLS_CERT ? Object.freeze({ certPath: v.MXPOST_TLS_CERT, keyPath: v.MXPOST_TLS_KEY }) : null,
    proxyProtocol: v.MXPOST_PROXY_PROTOCOL,
    proxyTrusted: v.MXPOST_PROXY_TRUSTED,
    maxBacklog: v.MXPOST_MAX_BACKLOG,
    redisMemoryLimitPercent: v.MXPOST_REDIS_MEMORY_LIMIT_PERCENT,
    durability: v.MXPOST_DURABILITY,
    redisMinReplicas: v.MXPOST_REDIS_MIN_REPLICAS,
  });
}

type Typed = { [K in Name]: z.output<(typeof SETTINGS)[K]['schema']> };

/** Redacts credentials in a Redis URL for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
