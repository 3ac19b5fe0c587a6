/** What the overload gate reads from the queue and its Redis. */
export interface LoadSample {
  /** Deliveries waiting or delayed (retries included): work that is not done yet. */
  readonly backlog: number;
  readonly usedMemory: number;
  /** Redis `maxmemory`; 0 when Redis has none, and then memory is not judged. */
  readonly maxMemory: number;
}

export type LoadVerdict = 'ok' | 'backlog' | 'memory';

/**
 * Decides at MAIL FROM whether a new transaction may start: not when the backlog
 * passes `maxBacklog`, nor when Redis has used `memoryLimitPercent` of its
 * `maxmemory` (with noeviction, a full Redis refuses writes, and then we would be
 * answering 451 only after the client sent the whole message). The answer is
 * `451 4.3.2`, so senders keep the mail and try later.
 *
 * One sample serves every session for `maxAgeMs`, and only one is in flight at a
 * time, so a burst of connections costs Redis one round trip a second. A sample
 * that fails lets the transaction through: Redis being away is answered at DATA
 * (451 4.3.0), where the enqueue finds out for certain.
 */
export function createOverloadGate(options: {
  sample: () => Promise<LoadSample>;
  maxBacklog: number;
  memoryLimitPercent: number;
  maxAgeMs?: number;
  now?: () => number;
  onSampleError?: (err: Error) => void;
}) {
  const maxAge = options.maxAgeMs ?? 1000;
  const now = options.now ?? Date.now;
  let last: { at: number; sample: LoadSample | null } | null = null;
  let inFlight: Promise<LoadSample | null> | null = null;

  const judge = (sample: LoadSample | null): LoadVerdict => {
    if (!sample) return 'ok';
    if (sample.backlog >= options.maxBacklog) return 'backlog';
    if (sample.maxMemory > 0 && sample.usedMemory >= (sample.maxMemory * options.memoryLimitPercent) / 100) return 'memory';
    return 'ok';
  };

  return {
    async check(): Promise<LoadVerdict> {
      if (last && now() - last.at < maxAge) return judge(last.sample);
      inFlight ??= withTimeout(options.sample(), maxAge)
        .catch((err: Error) => {
          options.onSampleError?.(err);
          return null;
        })
        .then((sample) => {
          last = { at: now(), sample };
          inFlight = null;
          return sample;
        });
      return judge(await inFlight);
    },
  };
}

// A sample slower than its own lifetime is no use: answer without it.
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no load sample within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
