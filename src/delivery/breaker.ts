/**
 * Per-endpoint circuit breakers, so that one failing endpoint cannot take the
 * worker's slots from the others. Closed: attempts go through, at most
 * `maxInFlight` at once per endpoint. After `failureThreshold` failures in a row
 * it opens: its deliveries are put back to wait without an attempt until
 * `openUntil`. Then one probe goes through (half-open): success closes it,
 * failure opens it again for twice as long, up to `maxOpenMs`.
 * State is per process: each worker process learns on its own.
 */
export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
  readonly maxInFlight: number;
  readonly now?: () => number;
}

interface State {
  failures: number;
  inFlight: number;
  openUntil: number;
  openMs: number;
  probing: boolean;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAt: number; readonly reason: 'open' | 'busy' };

export interface EndpointHealth {
  readonly endpoint: string;
  readonly state: 'closed' | 'open' | 'half-open';
  readonly consecutiveFailures: number;
  readonly inFlight: number;
  readonly openUntil: number | null;
}

export function createBreakers(options: BreakerOptions) {
  const now = options.now ?? Date.now;
  const states = new Map<string, State>();
  const get = (key: string): State => {
    let state = states.get(key);
    if (!state) {
      state = { failures: 0, inFlight: 0, openUntil: 0, openMs: options.openMs, probing: false };
      states.set(key, state);
    }
    return state;
  };
  // A slot freed by a busy endpoint is usually taken again within a second.
  const BUSY_WAIT_MS = 1000;

  return {
    admit(key: string): Admission {
      const s = get(key);
      const t = now();
      if (s.openUntil > t) return { ok: false, retryAt: s.openUntil, reason: 'open' };
      if (s.failures >= options.failureThreshold) {
        // Half-open: one probe at a time decides.
        if (s.probing) return { ok: false, retryAt: t + Math.min(s.openMs, BUSY_WAIT_MS * 5), reason: 'open' };
        s.probing = true;
      } else if (s.inFlight >= options.maxInFlight) {
        return { ok: false, retryAt: t + BUSY_WAIT_MS, reason: 'busy' };
      }
      s.inFlight++;
      return { ok: true };
    },
    /** `healthy`: the endpoint answered as a working endpoint does (2xx, or a verdict on the request). */
    release(key: string, healthy: boolean): void {
      const s = get(key);
      s.inFlight = Math.max(0, s.inFlight - 1);
      const wasProbe = s.probing;
      s.probing = false;
      if (healthy) {
        s.failures = 0;
        s.openMs = options.openMs;
        s.openUntil = 0;
        return;
      }
      s.failures++;
      if (s.failures >= options.failureThreshold) {
        if (wasProbe) s.openMs = Math.min(s.openMs * 2, options.maxOpenMs);
        s.openUntil = now() + s.openMs;
      }
    },
    health(): EndpointHealth[] {
      const t = now();
      return [...states.entries()].map(([endpoint, s]) => ({
        endpoint,
        state: s.openUntil > t ? 'open' : s.failures >= options.failureThreshold ? 'half-open' : 'closed',
        consecutiveFailures: s.failures,
        inFlight: s.inFlight,
        openUntil: s.openUntil > t ? s.openUntil : null,
      }));
    },
  };
}

export type Breakers = ReturnType<typeof createBreakers>;
