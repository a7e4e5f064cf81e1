/**
 * Generated event logs (for projection tests and benchmarks, in 'strata/testing'):
 * commands decided by an app's own deciders, in memory, into the envelopes the write
 * side would commit (gapless versions, a deterministic clock and ids for a seed). A
 * refusal yields nothing, as at the gateway.
 */
import { defaultTenant, everyRole } from '../../shared/auth/principal.js';
import { firstSchemaVersion, type EventEnvelope } from '../../shared/event-envelope.js';
import type { Domain } from './domain.js';
import { defaultTestContext } from './given-when-then.js';

export type DecideCommand = (commandType: string, aggregateId: string, data: unknown) => EventEnvelope[];

/** Who runs the generated commands: anyone may, as with authentication off. */
const runner = { ...defaultTestContext.principal, roles: [everyRole] };

/**
 * A decider of `domain`'s commands over streams it keeps in memory; `seed` goes into
 * the command ids and `next` (a seeded random, say) spaces the clock's ticks.
 */
export function decidedLog(domain: Domain, seed: number, next: () => number): DecideCommand {
  const streams = new Map<string, { version: number; state: unknown }>();
  let clock = Date.UTC(2026, 0, 1);
  let commands = 0;
  return (commandType, aggregateId, data) => {
    const aggregate = domain.aggregateFor(commandType);
    if (aggregate === undefined) throw new Error(`no aggregate handles ${commandType}`);
    const key = `${aggregate.type}:${aggregateId}`;
    const stream = streams.get(key) ?? { version: 0, state: aggregate.initialState() };
    const commandId = `generated-${String(seed)}-${String(++commands)}`;
    const now = new Date((clock += 1 + Math.floor(next() * 5)));
    let decided;
    try {
      decided = aggregate.decide({ type: commandType, data }, stream.state, { aggregateId, commandId, now, principal: runner });
    } catch {
      return [];
    }
    const envelopes = decided.map((event) => ({
      eventId: `${commandId}-${String(++stream.version)}`,
      type: event.type,
      tenant: defaultTenant,
      aggregateType: aggregate.type,
      aggregateId,
      version: stream.version,
      commandId,
      causationId: commandId,
      correlationId: commandId,
      timestamp: now.toISOString(),
      schemaVersion: domain.events.currentVersion(aggregate.type, event.type) ?? firstSchemaVersion,
      data: event.data,
    }));
    stream.state = decided.reduce(aggregate.evolve, stream.state);
    streams.set(key, stream);
    return envelopes;
  };
}
