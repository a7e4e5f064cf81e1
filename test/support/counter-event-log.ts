/**
 * A generated counter event log (test/apps/counter-app.ts), for the platform's
 * projection tests: counters incremented by random amounts, relabelled now and
 * then, and reset, decided by the counter decider itself, so versions are gapless
 * and every event is one the write side could have committed. Deterministic for a
 * seed.
 * (test/support/event-appender.ts appends them to the events topic.)
 */
import { eventSchemaVersion, type EventEnvelope } from '../../shared/event-envelope.js';
import type { Aggregate } from '../../write-side/decider/domain.js';
import { takeFirst } from './event-appender.js';
import { seededRandom } from './seeded-random.js';
import counterApp from '../apps/counter-app.js';

export interface CounterLogOptions {
  seed: number;
  /** How many counters the log spreads over: `counter-<seed>-1` … `counter-<seed>-<counters>`. */
  counters: number;
}

const aggregateOf = (commandType: string): Aggregate => {
  const aggregate = counterApp.domain.aggregateFor(commandType);
  if (aggregate === undefined) throw new Error(`no aggregate handles ${commandType}`);
  return aggregate;
};

/** An endless, deterministic stream of counter events. */
export function* counterEvents(options: CounterLogOptions): Generator<EventEnvelope, never> {
  const next = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const streams = new Map<string, { version: number; state: unknown }>();
  let clock = Date.UTC(2026, 0, 1);
  let commands = 0;

  /** Decides one command; a refusal (resetting a counter at zero) yields nothing, as at the gateway. */
  function run(commandType: string, aggregateId: string, data: unknown): EventEnvelope[] {
    const aggregate = aggregateOf(commandType);
    const key = `${aggregate.type}:${aggregateId}`;
    const stream = streams.get(key) ?? { version: 0, state: aggregate.initialState() };
    const commandId = `generated-${String(options.seed)}-${String(++commands)}`;
    const now = new Date((clock += 1 + Math.floor(next() * 5)));
    let decided;
    try {
      decided = aggregate.decide({ type: commandType, data }, stream.state, { aggregateId, commandId, now });
    } catch {
      return [];
    }
    const envelopes = decided.map((event) => ({
      eventId: `${commandId}-${String(++stream.version)}`,
      type: event.type,
      aggregateType: aggregate.type,
      aggregateId,
      version: stream.version,
      commandId,
      causationId: commandId,
      correlationId: commandId,
      timestamp: now.toISOString(),
      schemaVersion: eventSchemaVersion,
      data: event.data,
    }));
    stream.state = decided.reduce(aggregate.evolve, stream.state);
    streams.set(key, stream);
    return envelopes;
  }

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
    const named = !streams.has(`Counter:${counterId}`) || roll > 0.9;
    yield* run('Increment', counterId, named ? { by, label: label() } : { by });
  }
}

/** The first `count` events of a generated log. */
export const takeCounterEvents = (count: number, options: CounterLogOptions): EventEnvelope[] => takeFirst(count, counterEvents(options));
