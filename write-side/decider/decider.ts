/**
 * The decider model of a domain, in the functional style of emmett: an aggregate
 * is a pure `decide` (command and state to events), a pure `evolve` (state and event
 * to state) and an `initialState`. No I/O, no clock, no random ids: what a decision
 * needs from the world arrives in the DecideContext, so a decision can be replayed
 * and tested given/when/then.
 *
 * Refusals are thrown as StrataErrors (BusinessRuleError → 422, NotFoundError → 404);
 * a refusal that the domain must remember is an event instead (StockReservationRejected).
 */

import type { Principal } from '../../shared/auth/principal.js';

export interface Command<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

export interface DecideContext {
  aggregateId: string;
  commandId: string;
  now: Date;
  /** Who sent the command (verified from its token), for rules such as "a customer orders only for herself". */
  principal: Principal;
}

export interface Decider<State, C extends Command, E extends DomainEvent> {
  decide: (command: C, state: State, context: DecideContext) => E[];
  evolve: (state: State, event: E) => State;
  initialState: () => State;
}

/** The state after `events`, from the initial state. */
export function fold<State, C extends Command, E extends DomainEvent>(
  decider: Decider<State, C, E>,
  events: readonly E[],
): State {
  return events.reduce(decider.evolve, decider.initialState());
}
