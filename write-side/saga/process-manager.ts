/**
 * The process-manager (saga) model: the platform's answer to work that spans
 * several aggregates. Like a decider, a saga is pure: `react` takes its state and
 * one input (an event of the log, or a deadline it set that has come) and returns
 * the new state, the commands to send and the deadlines to set or clear. No I/O, no
 * clock, no random ids: time arrives in the inputs (an event's timestamp, a
 * deadline's due time), so a saga is replayed and tested given/when/then.
 *
 * The runtime feeds each input to the instance it belongs to (`instanceOf`), keeps
 * the state, sends the commands through the write side and fires the deadlines. A
 * command's id is derived from the input that caused it (`sagaCommandId`), so a
 * redelivered input or a restart sends the very same commands, which the write side
 * answers with their first outcome instead of applying them again.
 */
import { createHash } from 'node:crypto';
import type { EventEnvelope } from '../../shared/event-envelope.js';

export interface SagaCommand {
  commandType: string;
  aggregateId: string;
  data: unknown;
}

export interface Deadline {
  /** One deadline per name and instance: setting it again moves it. */
  name: string;
  /** ISO 8601. */
  at: string;
}

export type SagaInput = { kind: 'event'; event: EventEnvelope } | { kind: 'deadline'; deadline: Deadline };

export interface SagaReaction<State> {
  state: State;
  commands: SagaCommand[];
  setDeadlines: Deadline[];
  clearDeadlines: string[];
}

export interface Saga<State> {
  /** Lower-case letters, digits and dashes: it names the consumer group and the state's keys. */
  name: string;
  /** The instance an event belongs to (an order id); undefined for events the saga ignores. */
  instanceOf(event: EventEnvelope): string | undefined;
  initialState(): State;
  react(state: State, input: SagaInput): SagaReaction<State>;
}

/** A reaction with nothing to do but (maybe) a new state. */
export const reaction = <State>(state: State, effects: Partial<Omit<SagaReaction<State>, 'state'>> = {}): SagaReaction<State> => ({
  state,
  commands: effects.commands ?? [],
  setDeadlines: effects.setDeadlines ?? [],
  clearDeadlines: effects.clearDeadlines ?? [],
});

/** What caused a reaction, as a stable string: an event's id, or a deadline of an instance. */
export const triggerOf = (instance: string, input: SagaInput) =>
  input.kind === 'event' ? `event:${input.event.eventId}` : `deadline:${instance}:${input.deadline.name}:${input.deadline.at}`;

/**
 * The id of the `index`-th command a saga sends in reaction to `trigger`: the same
 * inputs give the same ids, whoever computes them and however often.
 */
export function sagaCommandId(sagaName: string, trigger: string, index: number): string {
  const digest = createHash('sha256').update(`${sagaName}\n${trigger}\n${String(index)}`).digest('hex');
  return `saga-${sagaName}-${digest.slice(0, 32)}`;
}

/** The state after `inputs`, from the initial state, with everything the saga asked for on the way. */
export function runSaga<State>(saga: Saga<State>, inputs: readonly SagaInput[]): SagaReaction<State> {
  return inputs.reduce<SagaReaction<State>>((sofar, input) => {
    const next = saga.react(sofar.state, input);
    return {
      state: next.state,
      commands: [...sofar.commands, ...next.commands],
      setDeadlines: [...sofar.setDeadlines, ...next.setDeadlines],
      clearDeadlines: [...sofar.clearDeadlines, ...next.clearDeadlines],
    };
  }, reaction(saga.initialState()));
}
