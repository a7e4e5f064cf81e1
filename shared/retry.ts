/**
 * The one way Strata tries a call again: a backoff that doubles from `firstDelayMs` up to
 * `maxDelayMs`, with equal jitter (each wait drawn between half the backoff and all of it,
 * so that processes failing together do not try again together, yet a bounded retry keeps
 * at least half its patience).
 *
 * Our own rather than p-retry: the failure hook is told the wait chosen (the logs name
 * it), a step can run after each wait (a group heartbeat, a metadata refresh), and every
 * error is retried unless `retryable` says otherwise (p-retry gives up at once on most
 * TypeErrors). That takes a few lines, not a dependency.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** The wait after the first failure; each next one doubles. */
  firstDelayMs: number;
  /** The longest wait. */
  maxDelayMs: number;
  /** Tries in all before the last error is thrown; unbounded when absent. */
  attempts?: number;
  /** False waits the backoff exactly (a retry whose timing is deliberate). */
  jitter?: boolean;
  /** Aborting it ends the retry at once, a wait too: it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Whether a failure is tried again (asked after each one); a failure it refuses is thrown. */
  retryable?: (error: unknown) => boolean;
  /** Told of each failure that will be tried again: which try failed (from 1) and the wait before the next. */
  onFailure?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Runs after each wait, before the next try. */
  afterWait?: () => Promise<void>;
}

/** The backoff before try `attempt + 1`: doubling from `first`, at most `max`. */
const backoffMs = (attempt: number, first: number, max: number): number => Math.min(max, first * 2 ** (attempt - 1));

/** Equal jitter: between half the backoff and all of it. */
const jittered = (backoff: number): number => Math.round(backoff / 2 + Math.random() * (backoff / 2));

/** Runs `work` until it succeeds, waiting longer after each failure (see above). */
export async function retry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await work();
    } catch (error) {
      signal?.throwIfAborted();
      if (attempt >= (options.attempts ?? Infinity) || options.retryable?.(error) === false) throw error;
      const backoff = backoffMs(attempt, options.firstDelayMs, options.maxDelayMs);
      const delayMs = options.jitter === false ? backoff : jittered(backoff);
      options.onFailure?.(error, attempt, delayMs);
      // An abort ends the wait; the check at the top of the loop rejects with its reason.
      await sleep(delayMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
      if (!signal?.aborted) await options.afterWait?.();
    }
  }
}
