import type { Job } from 'bullmq';
import { DEFAULT_RETRY_WINDOW_MS } from '../config/routes.ts';
import type { Payload } from '../message/payload.ts';
import { QUEUE_STATES, type DeliveryQueue, type StoredDeliveryJob } from '../queue/deliveries.ts';
import type { AttemptLog, AttemptRecord } from './attempts.ts';
import { summarizeEndpoints, type EndpointSummary, type HealthReader } from './health.ts';

/** A delivery as the operator sees it: where it goes, where it stands, every attempt. */
export interface DeliveryView {
  readonly id: string;
  readonly queueId: string;
  readonly state: string;
  readonly domain: string;
  readonly url: string;
  readonly recipients: readonly string[];
  readonly subject: string | null;
  readonly receivedAt: string;
  readonly deadLetteredAt: string | null;
  /** The last reason, for a dead letter. */
  readonly reason: string | null;
  /** For a delivery a rule holds: the rule and since when; null otherwise. */
  readonly held: { readonly rule: string; readonly since: string } | null;
  readonly attempts: readonly AttemptRecord[];
}

export interface DeadLetterFilter {
  /** Only this domain's dead letters (either spelling is normalized by the caller). */
  readonly route?: string | undefined;
  /** Only those dead-lettered at or after this time (ms since epoch). */
  readonly since?: number | undefined;
  readonly limit?: number | undefined;
}

export interface HeldFilter {
  readonly route?: string | undefined;
  readonly rule?: string | undefined;
  readonly limit?: number | undefined;
}

// Listing scans the failed set newest first; beyond this many it stops.
const SCAN_LIMIT = 10_000;

/** Live state: queue depth by state, and each endpoint's health as the workers report it. */
export interface Overview {
  readonly queue: Readonly<Record<string, number>>;
  readonly workers: number;
  readonly endpoints: readonly EndpointSummary[];
}


/**
 * Reading and replaying deliveries: the one implementation behind both the
 * admin HTTP API and the CLI, so that they cannot disagree.
 */
export function createDeliveryAdmin(deliveryQueue: DeliveryQueue, attempts: AttemptLog, health?: HealthReader) {
  const queue = deliveryQueue.queue;
  async function view(job: Job<StoredDeliveryJob>, state: string, withAttempts: boolean): Promise<DeliveryView> {
    const data = job.data;
    return {
      id: String(job.id),
      queueId: data.queueId,
      state: stateName(state, data),
      domain: data.domain,
      url: data.url,
      recipients: data.part.envelope.rcptTo,
      subject: data.subject,
      receivedAt: data.part.receivedAt,
      deadLetteredAt: state === 'failed' && job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      reason: state === 'failed' ? job.failedReason : null,
      held: state === 'delayed' ? (data.held ?? null) : null,
      attempts: withAttempts ? await attempts.list(String(job.id)) : [],
    };
  }

  async function failedJobs(filter: DeadLetterFilter): Promise<Job<StoredDeliveryJob>[]> {
    const jobs = (await queue.getFailed(0, SCAN_LIMIT - 1)).filter((job): job is Job<StoredDeliveryJob> => Boolean(job));
    return jobs
      .filter((job) => (filter.route ? job.data.domain === filter.route : true))
      .filter((job) => (filter.since ? (job.finishedOn ?? 0) >= filter.since : true))
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0));
  }

  async function heldJobs(filter: HeldFilter): Promise<Job<StoredDeliveryJob>[]> {
    const jobs = (await queue.getDelayed(0, SCAN_LIMIT - 1)).filter((job): job is Job<StoredDeliveryJob> => Boolean(job?.data.held));
    return jobs
      .filter((job) => (filter.route ? job.data.domain === filter.route : true))
      .filter((job) => (filter.rule ? job.data.held!.rule === filter.rule : true))
      .sort((a, b) => a.data.held!.since.localeCompare(b.data.held!.since));
  }

  /** A held job by id, or null when there is none (or it is no longer held). */
  async function held(id: string): Promise<Job<StoredDeliveryJob> | null> {
    const job = await queue.getJob(id);
    return job && stateName(await job.getState(), job.data) === 'held' ? job : null;
  }

  async function releaseJob(job: Job<StoredDeliveryJob>): Promise<void> {
    // Released, it is delivered like any other, with a full retry window from now.
    await deliveryQueue.keep(job.data.queueId, DEFAULT_RETRY_WINDOW_MS);
    await job.updateData({ ...job.data, held: null, windowStartedAt: Date.now() });
    await job.promote();
  }

  async function replayJob(job: Job<StoredDeliveryJob>): Promise<void> {
    // The retry window starts again, so a replay gets a full schedule; the id,
    // and so the webhook-id, stays the same for the endpoint to de-duplicate.
    // The message stays readable for that window too.
    await deliveryQueue.keep(job.data.queueId, DEFAULT_RETRY_WINDOW_MS);
    // A hold that ran out is replayed as a release: it is delivered, not held again.
    await job.updateData({ ...job.data, held: null, windowStartedAt: Date.now() });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  }

  return {
    async show(id: string): Promise<DeliveryView | null> {
      // The state first: the job read after it is at least as recent, so a
      // dead letter is never shown without the reason it was stored with.
      const state = await queue.getJobState(id);
      const job = await queue.getJob(id);
      return job ? view(job, state, true) : null;
    },
    async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeliveryView[]> {
      const jobs = (await failedJobs(filter)).slice(0, filter.limit ?? 100);
      return Promise.all(jobs.map((job) => view(job, 'failed', false)));
    },
    /** The payload exactly as POSTed to the endpoint; null once the delivery has expired. */
    async payload(id: string): Promise<Payload | null> {
      const job = await queue.getJob(id);
      return job ? ((await deliveryQueue.load(job.data))?.payload ?? null) : null;
    },
    /** Where each delivery stands, as `show` names it ('unknown' once expired). */
    async states(ids: readonly string[]): Promise<Map<string, string>> {
      const states = await Promise.all(
        ids.map(async (id) => {
          const state = await queue.getJobState(id);
          // Only a delayed delivery needs its data to be named (a retry, or held).
          return stateName(state, state === 'delayed' ? (await queue.getJob(id))?.data : undefined);
        }),
      );
      return new Map(ids.map((id, i) => [id, states[i]!]));
    },
    async overview(): Promise<Overview> {
      const [counts, snapshots] = await Promise.all([queue.getJobCounts(...QUEUE_STATES), health ? health() : Promise.resolve([])]);
      const { failed, ...rest } = counts;
      return { queue: { ...rest, 'dead-letter': failed ?? 0 }, workers: snapshots.length, endpoints: summarizeEndpoints(snapshots) };
    },
    /** Replays one dead letter; false when there is no dead letter with that id. */
    async replay(id: string): Promise<boolean> {
      const job = await queue.getJob(id);
      if (!job || (await job.getState()) !== 'failed') return false;
      await replayJob(job);
      return true;
    },
    /** Deliveries held by rules, oldest first. */
    async listHeld(filter: HeldFilter = {}): Promise<DeliveryView[]> {
      const jobs = (await heldJobs(filter)).slice(0, filter.limit ?? 100);
      return Promise.all(jobs.map((job) => view(job, 'delayed', false)));
    },
    /** Releases one held delivery to its endpoint; false when none is held with that id. */
    async release(id: string): Promise<boolean> {
      const job = await held(id);
      if (job) await releaseJob(job);
      return job !== null;
    },
    /** Releases every held delivery that matches; returns their ids. */
    async releaseAll(filter: HeldFilter): Promise<string[]> {
      const jobs = await heldJobs({ ...filter, limit: undefined });
      for (const job of jobs) await releaseJob(job);
      return jobs.map((job) => String(job.id));
    },
    /** Discards one held delivery; false when none is held with that id. */
    async drop(id: string): Promise<boolean> {
      const job = await held(id);
      if (job) await job.remove();
      return job !== null;
    },
    /** Replays every dead letter that matches; returns their ids. */
    async replayAll(filter: DeadLetterFilter): Promise<string[]> {
      const jobs = await failedJobs({ ...filter, limit: undefined });
      for (const job of jobs) await replayJob(job);
      return jobs.map((job) => String(job.id));
    },
  };
}

export type DeliveryAdmin = ReturnType<typeof createDeliveryAdmin>;

/**
 * A BullMQ state as the operator reads it: 'failed' is a dead letter, and a
 * delayed delivery that a rule holds is 'held' (a delayed one is otherwise a retry waiting).
 */
function stateName(state: string, data: StoredDeliveryJob | undefined): string {
  if (state === 'failed') return 'dead-letter';
  return state === 'delayed' && data?.held ? 'held' : state;
}
