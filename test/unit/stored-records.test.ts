/**
 * Every record Strata reads from Kafka or gRPC, through its kind's decoder: what any
 * version wrote reads as before (older records with the defaults they always had), and
 * a record of the wrong shape, with a field missing, or not JSON, is refused as each
 * reader refuses it (MalformedRecordError, or absent where the reader skips it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTenant } from '../../shared/auth/principal.js';
import type { Config } from '../../shared/config.js';
import { decodeEvent, encodeEvent, type EventEnvelope } from '../../shared/event-envelope.js';
import type { LogClient, LogRecord, ReadToEndOptions } from '../../shared/kafka/log-client.js';
import { testEvent } from '../../projections/given-when-then.js';
import { decodeDeadLetterRecord, encodeDeadLetter, type DeadLetter } from '../../projections/dead-letters.js';
import { decodeCommand, decodeOutcome, encodeCommand, encodeOutcome, type CommandOutcome, type CommandRecord } from '../../write-side/command-record.js';
import { decodeStatus, encodeStatus, type PartitionStatus } from '../../write-side/command-processor/partition-status.js';
import { decodeSnapshot } from '../../write-side/command-processor/snapshot-record.js';
import type { SnapshotRecord } from '../../write-side/command-processor/partition-state.js';
import { decodeDirectCommands, decodeDirectOutcomes, directCommandOf } from '../../write-side/direct-route.js';
import { readEventSchemas, type PublishedSchema } from '../../write-side/event-schema-topic.js';
import { malformed } from '../support/malformed-record.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
/** `record` without `field`, as a writer from before the field would have written it. */
const without = <T extends object, Field extends keyof T>(record: T, field: Field): Omit<T, Field> => {
  const { [field]: _field, ...rest } = record;
  return rest;
};

const event: EventEnvelope = { ...testEvent('Order', 'o-1', 3, 'OrderPlaced', { total: 5 }), tenant: 'acme', actor: { subject: 'alice', tenant: 'acme' } };

const command: CommandRecord = {
  commandId: 'c-1',
  commandType: 'PlaceOrder',
  tenant: 'acme',
  aggregateType: 'Order',
  aggregateId: 'o-1',
  expectedVersion: 2,
  data: { total: 5 },
  correlationId: 'c-1',
  submittedAt: '2026-12-08T00:00:00.000Z',
  principal: { subject: 'alice', tenant: 'acme', roles: ['customer'], scopes: [] },
};

const accepted: CommandOutcome = { status: 'accepted', commandId: 'c-1', tenant: 'acme', aggregateId: 'o-1', version: 3, events: ['OrderPlaced'], consistencyToken: 't' };
const rejected: CommandOutcome = {
  status: 'rejected',
  commandId: 'c-2',
  tenant: 'acme',
  aggregateId: 'o-1',
  request: { commandType: 'PlaceOrder', sender: 'alice', body: 'digest' },
  problem: { type: 'https://strata.dev/problems/business-rule-violated', title: 'Business rule violated', status: 422, detail: 'no', rule: 'r' },
};

describe('stored records', () => {
  it('events: read as written, one from before tenants as the default tenant’s, and a malformed one refused', () => {
    assert.deepStrictEqual(decodeEvent({ value: Buffer.from(String(encodeEvent(event).value)) }), event);
    const old = without(without(event, 'tenant'), 'actor');
    assert.deepStrictEqual(decodeEvent({ value: json(old) }), { ...old, tenant: defaultTenant });
    assert.equal('data' in decodeEvent({ value: json(without(event, 'data')) }), false, 'an event of undefined data reads without data, as before');
    assert.throws(() => decodeEvent({ value: json({ ...event, version: '3' }) }), malformed(/^not an event envelope: \/version: Expected integer$/));
    assert.throws(() => decodeEvent({ value: json({ ...event, version: 0 }) }), malformed(/\/version/));
    assert.throws(() => decodeEvent({ value: json({ ...event, actor: { subject: 'alice' } }) }), malformed(/\/actor\/tenant: Expected required property/));
    assert.throws(() => decodeEvent({ value: json(without(event, 'eventId')) }), malformed(/^not an event envelope: \/eventId: Expected required property$/));
    assert.throws(() => decodeEvent({ value: json(without(event, 'schemaVersion')) }), malformed(/\/schemaVersion/), 'every version wrote one');
    assert.throws(() => decodeEvent({ value: Buffer.from('{"eventId":') }), malformed(/^not an event envelope: the value is not JSON$/));
    assert.throws(() => decodeEvent({ value: null }), malformed(/not JSON/));
  });

  it('commands: read as written, one from before tenants and principals addressing the default tenant, and a malformed one refused', () => {
    assert.deepStrictEqual(decodeCommand({ value: Buffer.from(String(encodeCommand(command).value)) }), command);
    const old = without(without(command, 'tenant'), 'principal');
    assert.deepStrictEqual(decodeCommand({ value: json(old) }), { ...old, tenant: defaultTenant });
    assert.throws(() => decodeCommand({ value: json({ ...command, aggregateId: 7 }) }), malformed(/^not a command record: \/aggregateId: Expected string$/));
    assert.throws(() => decodeCommand({ value: json({ ...command, tenant: 'a/b' }) }), malformed(/\/tenant/));
    assert.throws(() => decodeCommand({ value: json({ ...command, principal: { ...command.principal, roles: 'admin' } }) }), malformed(/\/principal\/roles: Expected array/));
    assert.throws(() => decodeCommand({ value: json(without(command, 'commandType')) }), malformed(/^not a command record: \/commandType: Expected required property$/));
    assert.throws(() => decodeCommand({ value: Buffer.from('PlaceOrder') }), malformed(/^not a command record: the value is not JSON$/));
  });

  it('outcomes: read as written, one from before tenants as the default tenant’s, and a malformed one refused', () => {
    for (const outcome of [accepted, rejected]) assert.deepStrictEqual(decodeOutcome({ value: Buffer.from(String(encodeOutcome(outcome, 0).value)) }), outcome);
    assert.deepStrictEqual(decodeOutcome({ value: json(without(accepted, 'tenant')) }), { ...accepted, tenant: defaultTenant });
    assert.throws(() => decodeOutcome({ value: json({ ...accepted, events: 'OrderPlaced' }) }), malformed(/^not a command outcome: \/events: Expected array$/));
    assert.throws(() => decodeOutcome({ value: json(without(rejected, 'problem')) }), malformed(/^not a command outcome: \/problem: Expected required property$/));
    assert.throws(() => decodeOutcome({ value: json({ ...accepted, status: 'maybe' }) }), malformed(/^not a command outcome: \/status:/));
    assert.throws(() => decodeOutcome({ value: Buffer.from('') }), malformed(/^not a command outcome: the value is not JSON$/));
  });

  it('snapshots: a stream’s and a checkpoint read as written, a tombstone skipped, and a malformed one refused', () => {
    const stream: SnapshotRecord = { kind: 'stream', eventSchemas: '', tenant: 'acme', aggregateType: 'Order', aggregateId: 'o-1', version: 3, state: { placed: true }, recent: [accepted] };
    const checkpoint: SnapshotRecord = { kind: 'checkpoint', eventsOffset: '42' };
    assert.deepStrictEqual(decodeSnapshot(json(stream)), stream);
    assert.deepStrictEqual(decodeSnapshot(json(checkpoint)), checkpoint);
    assert.equal(decodeSnapshot(null), null);
    const old = { ...without(without(stream, 'tenant'), 'eventSchemas'), recent: [without(accepted, 'tenant')] };
    assert.deepStrictEqual(decodeSnapshot(json(old)), { ...old, tenant: defaultTenant, recent: [{ ...accepted, tenant: defaultTenant }] }, 'a snapshot from before tenants, its outcomes too, is the default tenant’s');
    assert.throws(() => decodeSnapshot(json({ ...stream, version: 'three' })), malformed(/^not a snapshot record: \/version: Expected integer$/));
    assert.throws(() => decodeSnapshot(json({ ...checkpoint, eventsOffset: 42 })), malformed(/^not a snapshot record: \/eventsOffset: Expected string$/));
    assert.throws(() => decodeSnapshot(json(without(stream, 'recent'))), malformed(/^not a snapshot record: \/recent: Expected required property$/));
    assert.throws(() => decodeSnapshot(Buffer.from('{kind: stream}')), malformed(/^not a snapshot record: the value is not JSON$/));
  });

  it('direct route: a Decide call’s commands and outcomes read as sent, anything else refused', () => {
    const items = decodeDirectCommands(json([{ command, traceparent: '00-a-b-01' }, { command: without(command, 'tenant') }]));
    assert.deepStrictEqual(items.map(directCommandOf), [{ command, traceparent: '00-a-b-01' }, { command: { ...without(command, 'tenant'), tenant: defaultTenant } }]);
    assert.throws(() => decodeDirectCommands(json({ command })), malformed(/^not a list of direct commands: the value: Expected array$/));
    assert.throws(() => decodeDirectCommands(Buffer.from('[{')), malformed(/not JSON/));
    assert.throws(() => directCommandOf({ command: { ...command, commandId: null } }), malformed(/^not a direct command: \/command\/commandId: Expected string$/));
    assert.throws(() => directCommandOf({ traceparent: '00-a-b-01' }), malformed(/\/command: Expected required property/));
    assert.deepStrictEqual(decodeDirectOutcomes(json([accepted, rejected])), [accepted, rejected]);
    assert.throws(() => decodeDirectOutcomes(json([{ ...accepted, version: '3' }])), malformed(/^not the outcomes of a Decide call: \/0\/version: Expected number$/));
    assert.throws(() => decodeDirectOutcomes(Buffer.from('oops')), malformed(/not JSON/));
  });

  it('partition status: read as written; a malformed record is absent, as a tombstone is', () => {
    const status: PartitionStatus = { partition: 2, owner: 'host:1', address: 'host:7000', phase: 'serving', since: '2026-12-08T00:00:00.000Z', at: '2026-12-08T00:00:05.000Z', replayed: 4 };
    assert.deepStrictEqual(decodeStatus(Buffer.from(encodeStatus(status).value)), status);
    for (const value of [json({ ...status, phase: 'dancing' }), json({ ...status, partition: '2' }), json(without(status, 'owner')), Buffer.from('{"partition":'), null]) {
      assert.equal(decodeStatus(value), undefined, String(value));
    }
  });

  it('dead letters: read as written, an old letter’s event as the default tenant’s, and a malformed one refused', () => {
    const letter: DeadLetter = {
      id: 'order-details.v1:strata.events:0:7',
      projection: 'order-details',
      projectionVersion: 1,
      error: { name: 'Error', message: 'boom' },
      source: { topic: 'strata.events', partition: 0, offset: '7' },
      traceId: null,
      event,
      rawValue: null,
      failedAt: '2026-12-08T00:00:00.000Z',
    };
    assert.deepStrictEqual(decodeDeadLetterRecord({ value: Buffer.from(String(encodeDeadLetter(letter).value)) }), letter);
    const oldEvent = without(event, 'tenant');
    assert.deepStrictEqual(decodeDeadLetterRecord({ value: json({ ...letter, event: oldEvent }) }), { ...letter, event: { ...oldEvent, tenant: defaultTenant } });
    assert.throws(() => decodeDeadLetterRecord({ value: json({ ...letter, source: { ...letter.source, offset: 7 } }) }), malformed(/^not a dead letter: \/source\/offset: Expected string$/));
    assert.throws(() => decodeDeadLetterRecord({ value: json({ ...letter, event: without(event, 'aggregateId') }) }), malformed(/^not a dead letter: \/event\/aggregateId: Expected required property$/));
    assert.throws(() => decodeDeadLetterRecord({ value: json(without(letter, 'error')) }), malformed(/^not a dead letter: \/error: Expected required property$/));
    assert.throws(() => decodeDeadLetterRecord({ value: Buffer.from('letter') }), malformed(/^not a dead letter: the value is not JSON$/));
  });

  it('published event schemas: read as published; a record that is not one is passed over, as one that is not JSON is', async () => {
    const published: PublishedSchema = { aggregateType: 'Order', type: 'OrderPlaced', version: 1, schema: { type: 'object' } };
    const values = [json(published), json({ ...published, type: 'OrderShipped', version: '1' }), json(without({ ...published, type: 'OrderPaid' }, 'schema')), Buffer.from('{'), null];
    const records: LogRecord[] = values.map((value, offset) => ({ key: null, value, headers: {}, offset: BigInt(offset) }));
    const log = {
      readToEnd: (options: ReadToEndOptions) => {
        void options.onRecords(0, records);
        return Promise.resolve(new Map<number, bigint>());
      },
    };
    assert.deepStrictEqual(await readEventSchemas(log as unknown as LogClient, { topics: { prefix: 'strata' } } as Config), [published]);
  });
});
