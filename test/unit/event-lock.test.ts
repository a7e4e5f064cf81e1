/**
 * The event lock file and `strata events check`'s rules, without infrastructure: given
 * a lock written under one definition of an app's events, when the definitions change,
 * then the check names each change that would leave a written event unreadable (a
 * schema changed in place, a version without an upcaster, an upcaster whose output does
 * not match the next schema on a recorded sample, a type no longer declared, a version
 * no longer declared), and passes on compatible changes and on the shop as it is.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { lockProblems, updatedLock, type EventLock } from '../../app/event-lock.js';
import { packageRoot } from '../../shared/package-files.js';
import { eventType, type EventTypes } from '../../shared/event-schemas.js';
import { testEvent } from '../../projections/given-when-then.js';
import { defineDomain, type Aggregate } from '../../write-side/decider/domain.js';
import shop from '../../examples/shop/app.js';

const V1 = Type.Object({ celsius: Type.Number() }, { additionalProperties: false });
const V2 = Type.Object({ value: Type.Number(), unit: Type.String() }, { additionalProperties: false });

/** A domain whose only aggregate declares `events` (the decider is never run here). */
const domainWith = (events: EventTypes) => {
  const aggregate: Aggregate = { type: 'Thermostat', commands: {}, access: {}, events, initialState: () => ({}), evolve: (state) => state, decide: () => [] };
  return defineDomain([aggregate]);
};
const sample = (schemaVersion: number, data: unknown) => ({ ...testEvent('Thermostat', 't-1', 1, 'TemperatureSet', data), schemaVersion });

/** The lock as written under v1, with a real sample. */
const writtenUnderV1: EventLock = updatedLock(domainWith({ TemperatureSet: eventType(V1) }), { aggregates: {} }, [sample(1, { celsius: 21 })]);

describe('the event lock', () => {
  it('records each declared version with its schema and real samples, and never drops what it holds', () => {
    const entry = writtenUnderV1.aggregates.Thermostat?.TemperatureSet;
    assert.deepEqual(entry?.versions.map((version) => [version.version, version.samples]), [[1, [{ celsius: 21 }]]]);
    const later = updatedLock(domainWith({ TemperatureSet: eventType(V1).upcastTo(V2, (v1) => ({ value: v1.celsius, unit: 'C' })) }), writtenUnderV1, [sample(2, { value: 70, unit: 'F' })]);
    assert.deepEqual(later.aggregates.Thermostat?.TemperatureSet?.versions.map((version) => [version.version, version.samples]), [[1, [{ celsius: 21 }]], [2, [{ value: 70, unit: 'F' }]]]);
    assert.deepEqual(updatedLock(domainWith({}), later), later, 'a type the app stopped declaring stays in the lock');
  });

  it('passes a new version with an upcaster whose output matches it', () => {
    assert.deepEqual(lockProblems(domainWith({ TemperatureSet: eventType(V1).upcastTo(V2, (v1) => ({ value: v1.celsius, unit: 'C' })) }), writtenUnderV1), []);
  });

  it('names a schema changed without a new version, and the field', () => {
    const changed = Type.Object({ celsius: Type.Integer() }, { additionalProperties: false });
    assert.deepEqual(lockProblems(domainWith({ TemperatureSet: eventType(changed) }), writtenUnderV1), [
      'Thermostat TemperatureSet v1: the schema changed at celsius (/properties/celsius/type); a written version stays as it was: restore it and declare v2 with an upcaster',
    ]);
  });

  it('names a version without an upcaster from the one before', () => {
    const handMade = { versions: [V1, V2], upcasters: [] };
    assert.match(lockProblems(domainWith({ TemperatureSet: handMade }), writtenUnderV1).join('\n'), /TemperatureSet: 2 versions but 0 upcasters/);
  });

  it("names an upcaster whose output does not match the next version's schema on a recorded sample", () => {
    const wrong = eventType(V1).upcastTo(V2, (v1) => ({ value: v1.celsius, unit: 'C', extra: true }) as never);
    assert.deepEqual(lockProblems(domainWith({ TemperatureSet: wrong }), writtenUnderV1), [
      'Thermostat TemperatureSet v1: sample 1 upcast to TemperatureSet v2: data must NOT have additional properties',
    ]);
  });

  it('names a written type or version the app no longer declares', () => {
    assert.match(lockProblems(domainWith({}), writtenUnderV1).join('\n'), /Thermostat TemperatureSet: written \(in events.lock.json\) but no longer declared/);
    const underV2 = updatedLock(domainWith({ TemperatureSet: eventType(V1).upcastTo(V2, (v1) => ({ value: v1.celsius, unit: 'C' })) }), writtenUnderV1);
    assert.match(lockProblems(domainWith({ TemperatureSet: eventType(V1) }), underV2).join('\n'), /TemperatureSet v2: written but the app declares only 1 version/);
  });

  it("passes on the shop and its committed lock file (v1 samples of the evolved types included)", () => {
    const lock = JSON.parse(readFileSync(join(packageRoot, 'events.lock.json'), 'utf8')) as EventLock;
    assert.deepEqual(lockProblems(shop.domain, lock), []);
    const registered = lock.aggregates.Product?.ProductRegistered?.versions ?? [];
    assert.deepEqual(registered.map((version) => version.version), [1, 2]);
    assert.ok(registered.every((version) => version.samples.length > 0), 'real samples of both versions');
  });
});
