import { DnsError, type Records } from './dns-client.ts';
import type { Resolver } from './resolver.ts';

const TRANSIENT = new Set(['ETIMEOUT', 'ESERVFAIL', 'EREFUSED', 'ECONNREFUSED', 'EBADRESP']);

/**
 * The shared resolver as one message's checks see it: once the message's
 * deadline passes, every lookup (running or new) fails at once with ETIMEOUT,
 * so that mailauth's work ends promptly instead of running on after the reply.
 * It remembers which names failed temporarily, for verdicts that mailauth
 * reports as failures (ARC) although the DNS, not the message, was at fault.
 */
export function scopeResolver(shared: Resolver, signal: AbortSignal) {
  const failed = new Set<string>();
  const deadlinePassed = (name: string, type: string) => new DnsError('ETIMEOUT', `${type} ${name}: authentication deadline passed`);

  function resolve(name: string, type: string): Promise<Records> {
    if (signal.aborted) return Promise.reject(deadlinePassed(name, type));
    return new Promise<Records>((resolvePromise, reject) => {
      const onAbort = () => reject(deadlinePassed(name, type));
      signal.addEventListener('abort', onAbort, { once: true });
      shared
        .resolve(name, type)
        .then(resolvePromise, (err: unknown) => {
          if (err instanceof DnsError && TRANSIENT.has(err.code)) failed.add(name.toLowerCase());
          reject(err);
        })
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  return {
    resolve,
    /** Whether a lookup of `name` (any type) failed for a reason other than "no such record". */
    failedTemporarily: (name: string) => failed.has(name.toLowerCase()),
  };
}
