/**
 * Given/when/then for projections, without infrastructure:
 *
 *   const spec = projectionSpec(orderDetails);
 *   spec.given([placed]).when(confirmed).then({ ...order, status: 'confirmed' });
 *   spec.given([]).when(confirmed).thenThrows(/no order/);
 *
 * `given` takes the aggregate's past events (folded as the runtime would, passing
 * over types the projection does not handle), `when` one event; `then` compares
 * the document and the Redis effects exactly, `thenThrows` the handler's refusal,
 * which the runtime turns into a dead letter. Given the aggregate's event types
 * (`projectionSpec(p, { events: productEvents })`), events are upcast first, as the
 * projector reads them: a test may give them as an old version wrote them.
 */
import assert from 'node:assert/strict';
import { defaultTenant } from '../shared/auth/principal.js';
import { firstSchemaVersion, type EventEnvelope } from '../shared/event-envelope.js';
import { upcastEvent, type EventTypes } from '../shared/event-schemas.js';
import type { Document, RedisEffect } from '../stores/projection-sink.js';
import { applyEvent, handles, type Projection } from './projection.js';

export interface ProjectionSpec {
  given(events: readonly EventEnvelope[]): {
    when(event: EventEnvelope): {
      then(document: Document | null, effects?: readonly RedisEffect[]): void;
      thenThrows(message?: RegExp): void;
    };
  };
}

export function projectionSpec(projection: Projection, options: { events?: EventTypes } = {}): ProjectionSpec {
  const { events: types } = options;
  const read = (event: EventEnvelope) => (types === undefined ? event : upcastEvent(types, event));
  const fold = (events: readonly EventEnvelope[]) =>
    events.map(read).reduce<Document | undefined>(
      (document, event) => (handles(projection, event) ? (applyEvent(projection, event, document).document ?? undefined) : document),
      undefined,
    );
  return {
    given: (events) => ({
      when: (stored) => {
        const event = read(stored);
        const apply = () => applyEvent(projection, event, fold(events));
        return {
          then: (document, effects = []) => {
            assert.ok(handles(projection, event), `${projection.name} does not handle ${event.aggregateType} ${event.type}`);
            assert.deepStrictEqual(apply(), { document, effects });
          },
          thenThrows: (message) => {
            assert.throws(apply, (error: unknown) => {
              assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
              if (message !== undefined) assert.match(error.message, message);
              return true;
            });
          },
        };
      },
    }),
  };
}

/**
 * An event as the events topic carries it, for projection tests: the envelope's
 * bookkeeping fields are filled in from the aggregate id and version, in the default tenant.
 */
export function testEvent(
  aggregateType: string,
  aggregateId: string,
  version: number,
  type: string,
  data: unknown,
  timestamp = new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString(),
): EventEnvelope {
  const commandId = `command-${aggregateId}-${String(version)}`;
  return {
    eventId: `${aggregateId}-${String(version)}`,
    type,
    tenant: defaultTenant,
    aggregateType,
    aggregateId,
    version,
    commandId,
    causationId: commandId,
    correlationId: commandId,
    timestamp,
    schemaVersion: firstSchemaVersion,
    data,
  };
}
