/**
 * Waiting in tests for projectors to reach the head of the events topic.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../shared/config.js';
import type { Projection } from '../../projections/projection.js';
import { projectionProgress, totalLag } from '../../projections/projection-progress.js';
import type { LogClient } from '../../shared/kafka/log-client.js';

export const projectionLag = async (log: LogClient, config: Config, projection: Projection) =>
  totalLag(await log.withAdmin((admin) => projectionProgress(admin, config, projection)));

/** Resolves once every projection's committed offsets reach the end of every partition. */
export async function caughtUp(log: LogClient, config: Config, projections: readonly Projection[], timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const projection of projections) {
    while ((await projectionLag(log, config, projection)) > 0n) {
      if (Date.now() > deadline) {
        throw new Error(`${projection.name} did not catch up: lag ${String(await projectionLag(log, config, projection))}`);
      }
      await sleep(200);
    }
  }
}
