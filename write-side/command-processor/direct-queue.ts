/**
 * Commands handed over directly by gateways wait here for the owner's next transaction:
 * those that arrive while one is under way go together in the next, at most
 * `maxDirectBatch` at a time (a bound on its size and on the wait of the last).
 */
import type { CommandOutcome } from '../command-record.js';
import type { Submitted } from './batch-tracing.js';

const maxDirectBatch = 500;

interface Waiting extends Submitted {
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * `commit` decides and commits a batch, resolving to its outcomes in order; `turn` runs
 * work in the owner's one-transaction-at-a-time order.
 */
export function directQueue(
  commit: (batch: readonly Submitted[]) => Promise<CommandOutcome[]>,
  turn: (work: () => Promise<void>) => Promise<void>,
): (submitted: Submitted) => Promise<CommandOutcome> {
  let waiting: Waiting[] = [];
  let drainQueued = false;
  const drain = async () => {
    drainQueued = false;
    const batch = waiting.slice(0, maxDirectBatch);
    waiting = waiting.slice(batch.length);
    if (waiting.length > 0) queueDrain();
    try {
      const outcomes = await commit(batch);
      batch.forEach(({ resolve }, index) => {
        const outcome = outcomes[index];
        if (outcome !== undefined) resolve(outcome);
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  };
  const queueDrain = () => {
    if (drainQueued) return;
    drainQueued = true;
    void turn(drain);
  };
  return (submitted) =>
    new Promise<CommandOutcome>((resolve, reject) => {
      waiting.push({ ...submitted, resolve, reject });
      queueDrain();
    });
}
