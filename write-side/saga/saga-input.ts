/**
 * One input (an event or a due deadline) applied to a saga instance: load it; if it
 * already handled the input, only make sure its commands went out; else react, and
 * save the new state, the input's id, the commands (the outbox) and the deadline
 * changes in one compare-and-set (a conflict: load and react again), then send the
 * outbox (saga-outbox.ts).
 */
import { sagaCommandId, triggerOf, type Saga, type SagaInput } from './process-manager.js';
import { flushOutbox, type OutboxContext } from './saga-outbox.js';
import type { SagaInstance } from './saga-store.js';

/** Compare-and-set rounds before an input is given up for now (and retried with its batch). */
const maxRounds = 20;

/** What handling a saga's inputs takes. */
export interface SagaContext<State> extends OutboxContext<State> {
  saga: Saga<State>;
}

/** Applies `input` to `instance`; `traceparent`: the trace its commands join. */
export async function handleInput<State>(context: SagaContext<State>, instance: string, input: SagaInput, traceparent: string | undefined): Promise<void> {
  const { saga, store } = context;
  const trigger = triggerOf(instance, input);
  for (let round = 1; round <= maxRounds; round++) {
    const current = (await store.load(instance)) ?? { version: 0, state: saga.initialState(), handled: [], outbox: [] };
    if (current.handled.includes(trigger)) {
      await flushOutbox(context, instance, current);
      return;
    }
    // A deadline cleared or moved since it was found due is not due any more.
    if (input.kind === 'deadline' && (await store.deadlineAt(instance, input.deadline.name)) !== input.deadline.at) return;
    const { next, deadlines } = reactTo(saga, current, input, trigger, traceparent);
    if (await store.save(instance, current.version, next, deadlines)) {
      await flushOutbox(context, instance, { ...next, version: current.version + 1 });
      return;
    }
  }
  throw new Error(`saga instance ${instance} kept changing while reacting to ${trigger}`);
}

/** The saga's reaction to `input` as what to save: the instance's next record and its deadline changes. */
function reactTo<State>(saga: Saga<State>, current: SagaInstance<State>, input: SagaInput, trigger: string, traceparent: string | undefined) {
  const reacted = saga.react(current.state, input);
  const commands = reacted.commands.map((command, index) => ({
    commandId: sagaCommandId(saga.name, trigger, index),
    command,
    ...(traceparent === undefined ? {} : { traceparent }),
  }));
  // A deadline that fired is cleared, unless the reaction set it again.
  const fired = input.kind === 'deadline' && !reacted.setDeadlines.some((deadline) => deadline.name === input.deadline.name) ? [input.deadline.name] : [];
  return {
    next: { state: reacted.state, handled: [...current.handled, trigger], outbox: [...current.outbox, ...commands] },
    deadlines: { set: reacted.setDeadlines, clear: [...reacted.clearDeadlines, ...fired] },
  };
}
