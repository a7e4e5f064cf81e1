import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `attempt` again while it fails with an error kafkajs marks retriable (a leader
 * that moved, a topic the broker's metadata does not know yet), as kafkajs's admin
 * retries them; waits a little longer each time and calls `between` (say, to refresh
 * metadata) before the next try.
 * Used where Strata calls the broker outside kafkajs's own retries.
 */
export async function retryRetriable<T>(attempt: () => Promise<T>, attempts: number, between?: () => Promise<void>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= attempts || (error as { retriable?: unknown }).retriable !== true) throw error;
      await sleep(100 * tried);
      // Fresh metadata may fail the same way (a topic not known yet): the next attempt meets it again.
      await between?.().catch(() => undefined);
    }
  }
}
