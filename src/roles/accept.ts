import type { Authenticator, AuthReport } from '../auth/authenticate.ts';
import { withoutOwnAuthenticationResults } from '../auth/headers.ts';
import { authSummary } from '../auth/schema.ts';
import { decide, strictest } from '../auth/policy.ts';
import type { AcceptedMessage } from '../delivery/messages.ts';
import { buildPayloads } from '../message/build.ts';
import { isMessageRefusedError } from '../message/limits.ts';
import { parseMessage, type ParsedMessage } from '../message/parse.ts';
import type { Payload } from '../message/payload.ts';
import { createParseSlots } from '../message/parse-slots.ts';
import type { DeliveryJob, DeliveryQueue } from '../queue/deliveries.ts';
import { deliveryId, newQueueId } from '../queue/ids.ts';
import { disposeOf, planDeliveries, type Target } from '../routing/resolve.ts';
import type { SyncDelivery } from '../routing/sync.ts';
import { replies } from '../smtp/replies.ts';
import type { Accepted, ReceivedMessage } from '../smtp/receiver.ts';

/**
 * The receiver's DATA step: authenticate, apply each route's auth policy, parse,
 * route, and store one job per (message, endpoint). It returns only once Redis
 * holds every job, which is what lets the SMTP layer answer 250; if Redis cannot
 * take them in time, the reply is 451 and the sender keeps the message.
 */
export function createAcceptor(options: {
  queue: DeliveryQueue;
  enqueueTimeoutMs: number;
  authenticate: Authenticator;
  authservId: string;
  /**
   * Told of each message once all its jobs are stored (the message index). It
   * must not wait on anything: the 250 goes out without waiting for it.
   */
  onAccepted?: (accepted: AcceptedMessage) => void;
  /** Posts the deliveries of routes in synchronous mode before the reply to DATA. */
  sync?: SyncDelivery;
}) {
  /** The jobs delivered synchronously; throws the SMTP reply when any was not taken. */
  async function deliverSynchronously(planned: readonly { job: DeliveryJob; plan: ReturnType<typeof planDeliveries>[number] }[]): Promise<Set<DeliveryJob>> {
    const sync = planned.flatMap(({ job, plan }) => {
      const target = plan.targets[0];
      return target?.sync && !plan.held ? [{ job, endpoint: plan.endpoint, policy: target.delivery, timeoutMs: target.sync.timeoutMs }] : [];
    });
    if (sync.length === 0 || !options.sync) return new Set();
    const delivery = options.sync;
    const outcomes = await Promise.all(sync.map(({ job, endpoint, policy, timeoutMs }) => delivery.deliver(job, endpoint, policy, timeoutMs)));
    // At least once: an endpoint that took the message gets it again if another defers and the sender retries.
    if (outcomes.some((o) => o.kind === 'deferred')) throw replies.endpointUnavailable();
    const refused = outcomes.find((o) => o.kind === 'refused');
    if (refused?.kind === 'refused') throw replies.endpointRefused(refused.text);
    return new Set(sync.map(({ job }) => job));
  }

  // Parsing is CPU-bound on this event loop: a few messages at a time (parse-slots.ts).
  const parseSlots = createParseSlots();
  // `signal` aborts once the receiver has answered 451 for taking too long: from
  // then on nothing may be stored, or the sender's retry would make a duplicate.
  return async function accept(received: ReceivedMessage, signal?: AbortSignal): Promise<Accepted> {
    const queueId = newQueueId(received.receivedAt.getTime());
    // Verdicts come from the message as it arrived; what is parsed and delivered
    // has no Authentication-Results claiming to be ours (forged, or a mail loop).
    const delivered = { ...received, raw: withoutOwnAuthenticationResults(received.raw, options.authservId) };
    const [report, parsed] = await Promise.all([
      options.authenticate({ raw: received.raw, remoteAddress: received.remoteAddress, helo: received.helo, mailFrom: received.mailFrom }),
      // Broken MIME is delivered as well as it reads; only structure past the
      // hard limits (message/limits.ts) is refused, before the 250.
      parseSlots(() => parseMessage(delivered.raw), signal).catch((err: unknown) => {
        throw isMessageRefusedError(err) ? replies.messageRefused(err.reason) : err;
      }),
    ]);
    // Every policy as the routes stood at RCPT: a reload since then does not apply to this message.
    const policies = new Map(received.targets.map((target) => [target.domain, target.auth]));
    const domains = [...policies.keys()];
    const decisions = new Map([...policies].map(([domain, policy]) => [domain, decide(report, policy)]));
    const refusal = strictest([...decisions.values()].filter((d) => d.action !== 'deliver'));
    if (refusal?.action === 'reject') throw replies.authRejected(refusal.check, refusal.reason);
    if (refusal?.action === 'defer') throw replies.authDeferred(refusal.check, refusal.reason);
    // Each recipient's rules, now that headers and verdicts are known (routing/rules.ts).
    const facts = { headers: parsed.document.headersByName, auth: authSummary(report.verdicts) };
    const dispositions = new Map(received.targets.map((target) => [target, disposeOf(target, facts)]));
    // One reply answers DATA for every recipient: a rule that rejects refuses the whole message.
    const rejected = [...dispositions.values()].find((d) => d.action === 'reject')?.rule?.rule;
    if (rejected?.reply) throw replies.ruleRejected(rejected.reply);
    const ruled = [...dispositions].flatMap(([target, d]) => (d.rule ? [{ recipient: target.recipient, domain: target.domain, rule: d.rule.rule.name, action: d.action }] : []));
    const plans = planDeliveries(received.targets, dispositions);
    const payloads = buildPayloads({ queueId, received: delivered, parsed, plans, deliveryId }).map(({ plan, payload }) => {
      const decision = decisions.get(plan.domain);
      const quarantined = decision?.action === 'deliver' && decision.quarantined;
      // A reply address's token verdict, decided at RCPT (routing/reply-address.ts).
      const replyToken = plan.targets[0]?.replyToken;
      const route = replyToken ? { ...payload.route, replyToken } : payload.route;
      return { plan, payload: { ...payload, route, auth: { ...report.verdicts, quarantined } } };
    });
    const jobs: DeliveryJob[] = payloads.map(({ plan, payload }) => ({
      deliveryId: payload.id,
      queueId,
      domain: plan.domain,
      address: plan.address,
      ref: plan.ref,
      held: plan.held ? { rule: plan.rule?.name ?? '', since: received.receivedAt.toISOString() } : null,
      url: plan.endpoint.url,
      windowStartedAt: received.receivedAt.getTime(),
      traceparent: received.traceparent,
      payload,
    }));
    // Synchronous routes answer first: their verdict decides the reply, and
    // nothing is stored unless every one of them took the message.
    const synced = await deliverSynchronously(jobs.map((job, i) => ({ job, plan: payloads[i]!.plan })));
    const queued = jobs.filter((job) => !synced.has(job));
    try {
      // The stored message must outlive the longest retry window of its deliveries.
      const retryWindowMs = Math.max(...plans.map((plan) => plan.targets[0]?.delivery.retryWindowMs ?? 0));
      if (queued.length > 0) await options.queue.enqueue(queued, options.enqueueTimeoutMs, signal, retryWindowMs > 0 ? { retryWindowMs } : {});
    } catch {
      // The cause is logged by the receiver with the transaction; the sender
      // only needs to know to try again.
      throw replies.storageUnavailable();
    }
    // Dropped recipients are recorded beside the deliveries, so that the console
    // can say where a message went even when it went nowhere.
    const dropped = ruled.filter((r) => r.action === 'drop').map(({ recipient, domain, rule }) => ({ recipient, domain, rule }));
    const sample = queued[0]?.payload ?? (dropped.length > 0 ? droppedPayload(queueId, delivered, parsed, received.targets, report) : undefined);
    if (sample) options.onAccepted?.({ queueId, jobs: queued, dropped, payload: sample });
    return {
      queueId,
      deliveryIds: jobs.map((job) => job.deliveryId),
      domains,
      auth: facts.auth,
      rules: ruled,
    };
  };
}

/** A payload of a message whose every recipient was dropped: only its summary is kept. */
function droppedPayload(queueId: string, received: ReceivedMessage, parsed: ParsedMessage, targets: readonly Target[], report: AuthReport): Payload {
  const [built] = buildPayloads({ queueId, received, parsed, plans: planDeliveries(targets), deliveryId });
  return { ...built!.payload, auth: { ...report.verdicts, quarantined: false } };
}
