import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric mxpost exports, in one place, named by Prometheus conventions.
 * Labels are bounded: a configured domain (or "unknown" for one that is not),
 * a reply class, a reason or outcome from a fixed list; never an address or URL.
 * Each service has its own registry, so that several can run in one process.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const metrics = {
    registry,
    smtpConnections: new Counter({ name: 'mxpost_smtp_connections_total', help: 'SMTP connections accepted.', registers }),
    smtpTransactions: new Counter({
      name: 'mxpost_smtp_transactions_total',
      help: 'SMTP transactions that reached the end of DATA, by reply class (2xx, 4xx, 5xx).',
      labelNames: ['class'] as const,
      registers,
    }),
    messagesAccepted: new Counter({ name: 'mxpost_messages_accepted_total', help: 'Messages answered 250, by route domain.', labelNames: ['domain'] as const, registers }),
    messagesRejected: new Counter({
      name: 'mxpost_messages_rejected_total',
      help: 'Recipients or messages refused, by reason (unknown-domain, unknown-recipient, invalid-address, too-big, policy, temporary).',
      labelNames: ['reason'] as const,
      registers,
    }),
    bytesReceived: new Counter({ name: 'mxpost_smtp_received_bytes_total', help: 'Bytes of message data received.', registers }),
    authVerdicts: new Counter({
      name: 'mxpost_auth_verdicts_total',
      help: 'Authentication verdicts of accepted messages, by method (spf, dkim, dmarc, arc) and result.',
      labelNames: ['method', 'result'] as const,
      registers,
    }),
    queueJobs: new Gauge({ name: 'mxpost_queue_jobs', help: 'Deliveries in the queue, by state.', labelNames: ['state'] as const, registers }),
    deliveryAttempts: new Counter({
      name: 'mxpost_delivery_attempts_total',
      help: 'Webhook delivery attempts, by route domain and outcome (delivered, retry, dead_letter, deferred).',
      labelNames: ['domain', 'outcome'] as const,
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'mxpost_delivery_latency_seconds',
      help: 'From the 250 to the endpoint accepting the delivery, by route domain.',
      labelNames: ['domain'] as const,
      // From a fast local endpoint to a day of retries.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    }),
    routesReloads: new Counter({ name: 'mxpost_routes_reloads_total', help: 'Reloads of the routes file (on change or SIGHUP), by result (ok, failed).', labelNames: ['result'] as const, registers }),
    ruleActions: new Counter({
      name: 'mxpost_rule_actions_total',
      help: 'Recipients of accepted messages that a routing rule took, by route domain, rule name and action (deliver, hold, drop).',
      labelNames: ['domain', 'rule', 'action'] as const,
      registers,
    }),
    deadLetters: new Counter({ name: 'mxpost_dead_letters_total', help: 'Deliveries dead-lettered, by route domain.', labelNames: ['domain'] as const, registers }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** `451` → `4xx`: the label of a reply code. */
export function replyClass(code: number): string {
  return `${Math.floor(code / 100)}xx`;
}
