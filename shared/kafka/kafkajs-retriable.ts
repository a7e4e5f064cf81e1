import { retry } from '../retry.js';

/**
 * Runs `attempt` again while it fails with an error kafkajs marks retriable (a leader
 * that moved, a topic the broker's metadata does not know yet), as kafkajs's admin
 * retries them, at most `attempts` times in all; waits a little longer each time
 * (0.1 s doubling, at most 1 s) and calls `between` (say, to refresh metadata) before
 * the next try.
 * Used where Strata calls the broker outside kafkajs's own retries.
 */
export async function retryRetriable<T>(attempt: () => Promise<T>, attempts: number, between?: () => Promise<void>): Promise<T> {
  return retry(attempt, {
    firstDelayMs: 100,
    maxDelayMs: 1_000,
    attempts,
    retryable: (error) => (error as { retriable?: unknown }).retriable === true,
    // Fresh metadata may fail the same way (a topic not known yet): the next attempt meets it again.
    afterWait: async () => {
      await between?.().catch(() => undefined);
    },
  });
}
