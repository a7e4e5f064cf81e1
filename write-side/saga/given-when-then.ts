/**
 * Given/when/then for sagas, as for deciders:
 *
 *   const spec = sagaSpec(fulfilmentSaga(30_000));
 *   spec.given([on(placed)]).when(on(reserved)).then({ commands: [confirm] });
 *   spec.given([on(placed)]).when(deadlineOf('settle', at)).then({ state: { phase: 'cancelling' } });
 *
 * `given` takes the inputs the instance already had, `when` one more; `then`
 * compares what it names of the reaction exactly (`state` only the fields given).
 * Given the event types of the aggregates it reads (`sagaSpec(s, { events: { Order:
 * orderEvents } })`), events are upcast first, as the saga runtime reads them.
 */
import assert from 'node:assert/strict';
import type { EventEnvelope } from '../../shared/event-envelope.js';
import { createEventCatalog, type EventTypes } from '../../shared/event-schemas.js';
import { runSaga, type Saga, type SagaInput, type SagaReaction } from './process-manager.js';

export const on = (event: EventEnvelope): SagaInput => ({ kind: 'event', event });
export const deadlineOf = (name: string, at: string): SagaInput => ({ kind: 'deadline', deadline: { name, at } });

export interface SagaExpectation<State> {
  state?: Partial<State>;
  commands?: SagaReaction<State>['commands'];
  setDeadlines?: SagaReaction<State>['setDeadlines'];
  clearDeadlines?: SagaReaction<State>['clearDeadlines'];
}

export function sagaSpec<State>(saga: Saga<State>, options: { events?: Readonly<Record<string, EventTypes>> } = {}) {
  const catalog = createEventCatalog(options.events ?? {});
  const read = (input: SagaInput): SagaInput => (input.kind === 'event' ? { kind: 'event', event: catalog.upcast(input.event) } : input);
  return {
    given: (inputs: readonly SagaInput[]) => ({
      when: (input: SagaInput) => ({
        then(expected: SagaExpectation<State>): SagaReaction<State> {
          const reacted = saga.react(runSaga(saga, inputs.map(read)).state, read(input));
          if (expected.state !== undefined) {
            const shown = Object.fromEntries(Object.keys(expected.state).map((key) => [key, reacted.state[key as keyof State]]));
            assert.deepStrictEqual(shown, expected.state);
          }
          for (const part of ['commands', 'setDeadlines', 'clearDeadlines'] as const) {
            if (expected[part] !== undefined) assert.deepStrictEqual(reacted[part], expected[part], part);
          }
          return reacted;
        },
      }),
    }),
  };
}
