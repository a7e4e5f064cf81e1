/**
 * Given/when/then for deciders, for anyone writing a domain:
 *
 *   const spec = deciderSpec(productDecider);
 *   spec.given([registered]).when(restock(5)).then([restocked(5)]);
 *   spec.given([]).when(restock(5)).thenThrows(NotFoundError, /does not exist/);
 *
 * `given` takes the aggregate's past events, `when` one command; `then` compares
 * the decided events exactly, `thenThrows` the refusal's class and message.
 */
import assert from 'node:assert/strict';
import { defaultTenant } from '../../shared/auth/principal.js';
import { fold, type Command, type DecideContext, type Decider, type DomainEvent } from './decider.js';

export const defaultTestContext: DecideContext = {
  aggregateId: 'test-aggregate',
  commandId: 'test-command',
  now: new Date('2026-01-01T00:00:00.000Z'),
  principal: { subject: 'test-user', tenant: defaultTenant, roles: [], scopes: [] },
};

type ErrorClass = abstract new (...args: never[]) => Error;

export interface DeciderSpec<C extends Command, E extends DomainEvent> {
  given(events: readonly E[]): {
    when(command: C): {
      then(expected: readonly E[]): void;
      thenThrows(errorClass: ErrorClass, message?: RegExp): void;
    };
  };
}

export function deciderSpec<State, C extends Command, E extends DomainEvent>(
  decider: Decider<State, C, E>,
  context: Partial<DecideContext> = {},
): DeciderSpec<C, E> {
  const decideContext = { ...defaultTestContext, ...context };
  return {
    given: (events) => ({
      when: (command) => {
        const decide = () => decider.decide(command, fold(decider, events), decideContext);
        return {
          then: (expected) => {
            assert.deepStrictEqual(decide(), expected);
          },
          thenThrows: (errorClass, message) => {
            assert.throws(decide, (error: unknown) => {
              assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
              if (message !== undefined) assert.match(error.message, message);
              return true;
            });
          },
        };
      },
    }),
  };
}
