import { buildPayloads } from '../message/build.ts';
import { parseMessage } from '../message/parse.ts';
import type { DeliveryJob, DeliveryQueue } from '../queue/deliveries.ts';
import { deliveryId, newQueueId } from '../queue/ids.ts';
import { planDeliveries } from '../routing/resolve.ts';
import { replies } from '../smtp/replies.ts';
import type { ReceivedMessage } from '../smtp/receiver.ts';

/**
 * The receiver's DATA step: parse, route, and store one job per (message,
 * endpoint). It returns only once Redis holds every job, which is what lets the
 * SMTP layer answer 250; if Redis cannot take them in time, the reply is 451
 * and the sender keeps the message.
 */
export function createAcceptor(options: { queue: DeliveryQueue; enqueueTimeoutMs: number }) {
  return async function accept(received: ReceivedMessage): Promise<string> {
    const queueId = newQueueId(received.receivedAt.getTime());
    const message = await parseMessage(received.raw);
    const plans = planDeliveries(received.targets);
    const payloads = buildPayloads({ queueId, received, message, plans, deliveryId });
    const jobs: DeliveryJob[] = payloads.map(({ plan, payload }) => ({
      deliveryId: payload.id,
      queueId,
      domain: plan.domain,
      address: plan.address,
      url: plan.endpoint.url,
      windowStartedAt: received.receivedAt.getTime(),
      payload,
    }));
    try {
      await options.queue.enqueue(jobs, options.enqueueTimeoutMs);
    } catch {
      // The cause is logged by the receiver with the transaction; the sender
      // only needs to know to try again.
      throw replies.storageUnavailable();
    }
    return queueId;
  };
}
