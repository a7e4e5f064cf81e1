/**
 * Events that evolve, without infrastructure: given an event as it was stored, when
 * it is read, then it is its type's current version (through every upcaster, and a
 * retired type through the one that replaced it); a decider's events are checked
 * against the current schema before anything is written; a snapshot folded under other
 * event schemas is refused. On a small thermostat whose `TemperatureSet` went from
 * `{celsius}` (v1) to `{value, unit}` (v2), and whose retired `Reset` is now read as
 * a `TemperatureSet`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type, type Static } from '@sinclair/typebox';
import { defaultTenant } from '../../shared/auth/principal.js';
import { UnreadableEventError } from '../../shared/errors.js';
import { eventType } from '../../shared/event-schemas.js';
import { testEvent } from '../../projections/given-when-then.js';
import type { CommandRecord } from '../../write-side/command-record.js';
import { applyEvent, applySnapshot, decideBatch, emptyPartition, streamKey, streamSnapshot } from '../../write-side/command-processor/partition-state.js';
import type { Decider, DomainEvent } from '../../write-side/decider/decider.js';
import { defineAggregate, defineDomain } from '../../write-side/decider/domain.js';
import { seededRandom } from '../../shared/seeded-random.js';
import { consistencyTokens } from '../../shared/consistency-token.js';

const tokens = consistencyTokens(new TextEncoder().encode('test secret'));

const SetV1 = Type.Object({ celsius: Type.Number() }, { additionalProperties: false });
const SetV2 = Type.Object({ value: Type.Number(), unit: Type.Union([Type.Literal('C'), Type.Literal('F')]) }, { additionalProperties: false });
const ResetV1 = Type.Object({}, { additionalProperties: false });

const temperatureSet = eventType(SetV1).upcastTo(SetV2, (v1) => ({ value: v1.celsius, unit: 'C' as const }));
type ThermostatEvent = DomainEvent<'TemperatureSet', Static<typeof SetV2>>;
type ThermostatCommand = { type: 'Set'; data: { value: number; unit: string } };

const thermostat: Decider<{ reading: string }, ThermostatCommand, ThermostatEvent> = {
  initialState: () => ({ reading: 'none' }),
  evolve: (_state, event) => ({ reading: `${String(event.data.value)} ${event.data.unit}` }),
  // Passes the unit through unchecked: the event schema is what catches a bad one.
  decide: (command) => [{ type: 'TemperatureSet', data: { value: command.data.value, unit: command.data.unit as 'C' } }],
};

const domain = defineDomain([
  defineAggregate({
    type: 'Thermostat',
    decider: thermostat,
    commands: { Set: Type.Object({ value: Type.Number(), unit: Type.String() }) },
    events: {
      TemperatureSet: temperatureSet,
      Reset: eventType(ResetV1).replacedWith('TemperatureSet', () => ({ celsius: 20 })),
    },
  }),
]);

const stored = (type: string, schemaVersion: number, data: unknown, version = 1) => ({ ...testEvent('Thermostat', 't-1', version, type, data), schemaVersion });

describe('event schemas', () => {
  it('upcasts a stored v1 event through every upcaster to the current version, and leaves a current one as it is', () => {
    const read = domain.events.upcast(stored('TemperatureSet', 1, { celsius: 21.5 }));
    assert.deepEqual([read.type, read.schemaVersion, read.data], ['TemperatureSet', 2, { value: 21.5, unit: 'C' }]);
    const current = stored('TemperatureSet', 2, { value: 70, unit: 'F' });
    assert.equal(domain.events.upcast(current), current);
  });

  it('reads a retired type as the type that replaced it, at that type\'s current version', () => {
    const read = domain.events.upcast(stored('Reset', 1, {}));
    assert.deepEqual([read.type, read.schemaVersion, read.data], ['TemperatureSet', 2, { value: 20, unit: 'C' }]);
    assert.equal(domain.events.currentType('Thermostat', 'Reset'), 'TemperatureSet');
  });

  it('refuses a version the app does not know, and reads undeclared types as they are', () => {
    assert.throws(() => domain.events.upcast(stored('TemperatureSet', 3, {})), UnreadableEventError);
    assert.throws(() => domain.events.upcast(stored('TemperatureSet', 0, {})), UnreadableEventError);
    const other = { ...testEvent('Heater', 'h-1', 1, 'Started', { watts: 5 }) };
    assert.equal(domain.events.upcast(other), other);
  });

  it('yields valid current events from any v1 data (property: upcasters agree with the schemas)', () => {
    const random = seededRandom(19);
    for (let i = 0; i < 500; i++) {
      const celsius = Math.round((random() * 200 - 100) * 100) / 100;
      const read = domain.events.upcast(stored('TemperatureSet', 1, { celsius }));
      assert.equal(domain.events.violation('Thermostat', read.type, read.data), undefined, JSON.stringify(read.data));
    }
  });

  it('writes a decided event at its type\'s current version, and refuses one that breaks the schema, appending nothing', () => {
    const record = (commandId: string, data: unknown): CommandRecord => ({
      commandId,
      commandType: 'Set',
      tenant: defaultTenant,
      aggregateType: 'Thermostat',
      aggregateId: 't-1',
      data,
      correlationId: commandId,
      submittedAt: '2026-01-01T00:00:00.000Z',
    });
    const bugs: string[] = [];
    const decision = decideBatch(emptyPartition(0), domain, [record('c-1', { value: 19, unit: 'C' }), record('c-2', { value: 19, unit: 'K' })], new Date(), (command) => {
      bugs.push(command.commandId);
    });
    assert.deepEqual(decision.events.map((event) => [event.commandId, event.type, event.schemaVersion]), [['c-1', 'TemperatureSet', 2]]);
    const refused = decision.results[1];
    assert.ok(refused !== undefined && 'outcome' in refused && refused.outcome.status === 'rejected');
    assert.equal(refused.outcome.problem.status, 500);
    assert.equal(refused.outcome.problem.type, 'https://strata.dev/problems/invalid-event');
    assert.match(refused.outcome.problem.detail, /TemperatureSet v2: data\/unit/);
    assert.deepEqual(bugs, ['c-2'], 'a decider bug, logged as one');
  });

  it('rebuilds a stream from old events as the decider reads them today', () => {
    const partition = emptyPartition(0);
    applyEvent(partition, domain, stored('TemperatureSet', 1, { celsius: 18 }, 1), '0', 10, tokens);
    applyEvent(partition, domain, stored('Reset', 1, {}, 2), '1', 10, tokens);
    const stream = partition.streams.get(streamKey({ tenant: defaultTenant, aggregateType: 'Thermostat', aggregateId: 't-1' }));
    assert.deepEqual([stream?.version, stream?.state], [2, { reading: '20 C' }]);
  });

  it("refuses a snapshot folded under other event schemas (the partition is refolded from its events), and takes today's", () => {
    const partition = emptyPartition(0);
    const state = { tenant: defaultTenant, aggregateType: 'Thermostat', aggregateId: 't-1', version: 1, state: { reading: '18 C' }, recent: [] };
    const today = streamSnapshot(domain, state);
    assert.equal(applySnapshot(partition, domain, today), true);
    assert.equal(partition.streams.size, 1);
    // Taken before TemperatureSet had a v2 (and Reset was retired): no schemas recorded.
    const { eventSchemas: _schemas, ...before } = today as typeof today & { eventSchemas: string };
    assert.equal(applySnapshot(partition, domain, before), false);
    assert.equal(partition.streams.size, 0, 'the stale state is not served');
  });
});
