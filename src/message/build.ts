import type { DeliveryPlan } from '../routing/resolve.ts';
import type { ReceivedMessage } from '../smtp/receiver.ts';
import type { Payload } from './payload.ts';
import type { MessageDocument } from './types.ts';

/** One payload per planned delivery, each with only its own recipients in the envelope. */
export function buildPayloads(input: {
  queueId: string;
  received: ReceivedMessage;
  message: MessageDocument;
  plans: readonly DeliveryPlan[];
  deliveryId: (queueId: string, index: number) => string;
}): { plan: DeliveryPlan; payload: Payload }[] {
  const { received } = input;
  return input.plans.map((plan, index) => {
    const first = plan.targets[0]!;
    const payload: Payload = {
      id: input.deliveryId(input.queueId, index),
      receivedAt: received.receivedAt.toISOString(),
      envelope: {
        mailFrom: received.mailFrom,
        rcptTo: plan.targets.map((t) => t.recipient),
        remoteAddress: received.remoteAddress,
        remotePort: received.remotePort,
        helo: received.helo,
      },
      route: { domain: plan.domain, recipient: first.recipient, tag: first.tag },
      message: input.message,
    };
    return { plan, payload };
  });
}
