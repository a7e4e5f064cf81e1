/**
 * A generated counter event log (test/apps/counter-app.ts), for the platform's
 * projection tests: counters incremented by random amounts, relabelled now and
 * then, and reset, decided by the counter decider itself, so versions are gapless
 * and every event is one the write side could have committed. Deterministic for a
 * seed.
 * (bench/event-appender.ts appends them to the events topic.)
 */
import type { EventEnvelope } from '../../shared/event-envelope.js';
import { decidedLog } from '../../write-side/decider/decided-log.js';
import { takeFirst } from '../../bench/event-appender.js';
import { seededRandom } from '../../shared/seeded-random.js';
import counterApp from '../apps/counter-app.js';

export interface CounterLogOptions {
  seed: number;
  /** How many counters the log spreads over: `counter-<seed>-1` … `counter-<seed>-<counters>`. */
  counters: number;
}

/** An endless, deterministic stream of counter events. */
export function* counterEvents(options: CounterLogOptions): Generator<EventEnvelope, never> {
  const next = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;

  const run = decidedLog(counterApp.domain, options.seed, next);
  const incremented = new Set<string>();

  const label = () => `${pick(['red', 'blue', 'green', 'amber'])} ${pick(['visits', 'clicks', 'errors', 'orders'])}`;
  for (;;) {
    const counterId = `counter-${String(options.seed)}-${String(1 + Math.floor(next() * options.counters))}`;
    const roll = next();
    if (roll < 0.1) {
      yield* run('Reset', counterId, {});
      continue;
    }
    const by = 1 + Math.floor(next() * 20);
    // A counter's first increment names it; now and then a later one renames it.
    const named = !incremented.has(counterId) || roll > 0.9;
    incremented.add(counterId);
    yield* run('Increment', counterId, named ? { by, label: label() } : { by });
  }
}

/** The first `count` events of a generated log. */
export const takeCounterEvents = (count: number, options: CounterLogOptions): EventEnvelope[] => takeFirst(count, counterEvents(options));
