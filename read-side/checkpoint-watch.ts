/**
 * Read-your-writes: a read given a consistency token waits until the projection
 * behind its route has passed the token's offsets (guarantee 7).
 *
 * One watch per projection and query process. Waiting reads register here; while
 * any wait, a single loop reads the projection's checkpoints every poll interval
 * and releases every read they satisfy. A thousand waiting reads cost the same one
 * checkpoint read per interval as one; none polls on its own. The last checkpoints
 * seen are kept: they only ever move forward, so a token they already satisfy
 * needs no store call at all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProducedOffsets } from '../shared/consistency-token.js';
import { ConsistencyTimeoutError, UnavailableError, ValidationError } from '../shared/errors.js';
import type { Checkpoints } from '../stores/projection-sink.js';

interface Waiter {
  offsets: ProducedOffsets;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface CheckpointWatch {
  /** Resolves once the checkpoints pass every offset; rejects with ConsistencyTimeoutError after `timeoutMs`. */
  waitFor(offsets: ProducedOffsets, timeoutMs: number): Promise<void>;
  stop(): void;
}

export function checkpointWatch(options: {
  projection: string;
  partitions: number;
  pollMs: number;
  read: () => Promise<Checkpoints>;
}): CheckpointWatch {
  let known: Checkpoints = new Map();
  const waiters = new Set<Waiter>();
  let polling = false;
  let stopped = false;

  const passed = (offsets: ProducedOffsets) =>
    Object.entries(offsets).every(([partition, offset]) => (known.get(Number(partition)) ?? 0n) > BigInt(offset));

  const settle = (waiter: Waiter, error?: unknown) => {
    clearTimeout(waiter.timer);
    waiters.delete(waiter);
    if (error === undefined) waiter.resolve();
    else waiter.reject(error);
  };

  async function poll(): Promise<void> {
    polling = true;
    try {
      while (waiters.size > 0 && !stopped) {
        try {
          known = await options.read();
        } catch (error) {
          // The store is down (the breaker says how): every waiting read gets that answer now.
          for (const waiter of waiters) settle(waiter, error);
          return;
        }
        for (const waiter of waiters) if (passed(waiter.offsets)) settle(waiter);
        if (waiters.size > 0) await sleep(options.pollMs);
      }
    } finally {
      polling = false;
    }
  }

  return {
    waitFor(offsets, timeoutMs) {
      for (const partition of Object.keys(offsets)) {
        if (Number(partition) >= options.partitions) {
          throw new ValidationError(
            `the consistency token names events partition ${partition}, and the events topic has ${String(options.partitions)}`,
            'X-Consistency-Token',
          );
        }
      }
      if (passed(offsets)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          offsets,
          resolve,
          reject,
          timer: setTimeout(() => { settle(waiter, new ConsistencyTimeoutError(options.projection, timeoutMs)); }, timeoutMs),
        };
        waiters.add(waiter);
        if (!polling) void poll();
      });
    },
    stop() {
      stopped = true;
      for (const waiter of waiters) settle(waiter, new UnavailableError('the query service is shutting down', 1));
    },
  };
}
