/**
 * An app's aggregate run by emmett: an adapter from Strata's decider (the app's own
 * decide, evolve and initialState, as defineAggregate registered them, not a copy) to
 * emmett's CommandHandler, which reads the aggregate's stream from the event store,
 * folds it with `evolve`, asks `decide` and appends what it decided, expecting the
 * version it read.
 */
import { randomUUID } from 'node:crypto';
import { CommandHandler, type Event } from '@event-driven-io/emmett';
import type { PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import type { Aggregate, Command, DecideContext, Principal } from '../../app/index.js';
import { defaultTenant } from '../../shared/auth/principal.js';

export interface HandledCommand {
  commandId: string;
  aggregateId: string;
  /** The stream's version after the command. */
  version: number;
  events: string[];
}

/** Runs `command` on one aggregate; a refusal is thrown as the decider throws it (NotFoundError, BusinessRuleError). */
export type DeciderHandler = (store: PostgresEventStore, aggregateId: string, command: Command) => Promise<HandledCommand>;

/**
 * `aggregate` under emmett. `roles`: who sent the command, for the decider's context: the
 * bench's user, whose token (the bench's requests carry one when --auth is on) the peer does
 * not verify.
 */
export function deciderHandler(aggregate: Aggregate, roles: readonly string[]): DeciderHandler {
  const handle = CommandHandler<unknown, Event>({
    evolve: aggregate.evolve,
    initialState: aggregate.initialState,
    // emmett names a stream's type by the part before its first '-'.
    mapToStreamId: (id) => `${aggregate.type.toLowerCase()}-${id}`,
    // Two commands on one aggregate at once: the second append finds the version moved and
    // is tried again on the new state, as emmett documents (Strata orders them per aggregate).
    retry: { onVersionConflict: true },
  });
  const principal: Principal = { subject: 'bench', tenant: defaultTenant, roles, scopes: [] };
  return async (store, aggregateId, command) => {
    const context: DecideContext = { aggregateId, commandId: randomUUID(), now: new Date(), principal };
    // A decider's events are JSON objects: their schemas (the aggregate's `events`) say so.
    const decide = (state: unknown) => aggregate.decide(command, state, context) as Event[];
    const { newEvents, nextExpectedStreamVersion } = await handle(store, aggregateId, decide);
    return { commandId: context.commandId, aggregateId, version: Number(nextExpectedStreamVersion), events: newEvents.map((event) => event.type) };
  };
}
