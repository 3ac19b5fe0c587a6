/**
 * Parsing runs on the event loop, so parsing more messages at once only splits
 * one core between them while every one of them holds its decoded parts in
 * memory. Two at a time keeps a small message from waiting long behind a large
 * one; the rest wait their turn, first come first served.
 */
export const PARSE_CONCURRENCY = 2;

export type ParseSlots = <T>(task: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

/**
 * Runs tasks at most `limit` at a time. A task whose `signal` aborted while it
 * waited (its client was already answered) is not started: it rejects with the
 * signal's reason.
 */
export function createParseSlots(limit = PARSE_CONCURRENCY): ParseSlots {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task, signal) => {
    // A finished task hands its slot straight to the first in line, so that no
    // newcomer can overtake those already waiting.
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      signal?.throwIfAborted();
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
