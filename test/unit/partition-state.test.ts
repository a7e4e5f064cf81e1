/**
 * Deciding a batch without infrastructure: versions, in-batch duplicates, and the
 * outcomes remembered for idempotent retries, on the neutral test domain
 * (test/apps/counter-app.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTenant } from '../../shared/auth/principal.js';
import { consistencyTokens } from '../../shared/consistency-token.js';
import type { CommandRecord } from '../../write-side/command-record.js';
import { applyEvent, decideBatch, emptyPartition, streamKey } from '../../write-side/command-processor/partition-state.js';
import { settle } from '../../write-side/command-processor/batch-settlement.js';
import counterApp from '../apps/counter-app.js';

const tokens = consistencyTokens(new TextEncoder().encode('test secret'));

const now = new Date('2026-01-01T00:00:00Z');
const record = (commandId: string, commandType: string, data: unknown, extra: Partial<CommandRecord> = {}): CommandRecord => ({
  commandId,
  commandType,
  tenant: defaultTenant,
  aggregateType: 'Counter',
  aggregateId: 'counter-1',
  data,
  correlationId: commandId,
  submittedAt: now.toISOString(),
  ...extra,
});
const increment = record('c-1', 'Increment', { by: 1, label: 'first' });
const counterOne = { tenant: defaultTenant, aggregateType: 'Counter', aggregateId: 'counter-1' };
const noBug = () => assert.fail('no decider bug expected');

describe('deciding a batch', () => {
  it('numbers events per stream, each command seeing the ones before it', () => {
    const partition = emptyPartition(3);
    const decision = decideBatch(partition, counterApp.domain, [increment, record('c-2', 'Increment', { by: 2 })], now, noBug);
    // The second Increment counts on from the first's value, and keeps its label.
    assert.deepEqual(decision.events.map((e) => [e.type, e.version, e.data]), [
      ['Incremented', 1, { by: 1, value: 1, label: 'first' }],
      ['Incremented', 2, { by: 2, value: 3, label: 'first' }],
    ]);
    assert.equal(partition.streams.size, 0, 'nothing changes before the commit');

    const { outcomes } = settle(partition, decision, ['40', '41'], 10, tokens);
    assert.deepEqual(outcomes.map((o) => o.status === 'accepted' && [o.version, tokens.decode(o.consistencyToken, defaultTenant)]), [
      [1, { 3: '40' }],
      [2, { 3: '41' }],
    ]);
  });

  it('decides a command id sent twice in one batch once, and answers both with one outcome', () => {
    const partition = emptyPartition(0);
    const decision = decideBatch(partition, counterApp.domain, [increment, increment], now, noBug);
    assert.equal(decision.events.length, 1);
    const { outcomes, streams } = settle(partition, decision, ['7'], 10, tokens);
    assert.deepEqual(outcomes[0], outcomes[1]);
    assert.equal(streams.get(streamKey(counterOne))?.recent.length, 1);
  });

  it('remembers refusals, so a retry gets the same answer even after the state changed', () => {
    const partition = emptyPartition(0);
    // A Reset of a counter that does not exist is refused; after an Increment it would be accepted.
    const reset = record('c-9', 'Reset', {});
    const refused = decideBatch(partition, counterApp.domain, [reset], now, noBug);
    const first = settle(partition, refused, [], 10, tokens);
    for (const [key, stream] of first.streams) partition.streams.set(key, stream);
    assert.equal(first.outcomes[0]?.status, 'rejected');

    const incremented = decideBatch(partition, counterApp.domain, [increment], now, noBug);
    for (const [key, stream] of settle(partition, incremented, ['1'], 10, tokens).streams) partition.streams.set(key, stream);
    const retried = decideBatch(partition, counterApp.domain, [reset], now, noBug);
    assert.equal(retried.events.length, 0);
    assert.deepEqual(settle(partition, retried, [], 10, tokens).outcomes[0], first.outcomes[0]);
  });

  it('keeps only the idempotency window of outcomes', () => {
    const partition = emptyPartition(0);
    const commands = [increment, ...Array.from({ length: 5 }, (_, i) => record(`r-${i}`, 'Increment', { by: 1 }))];
    const { streams } = settle(partition, decideBatch(partition, counterApp.domain, commands, now, noBug), ['0', '1', '2', '3', '4', '5'], 3, tokens);
    assert.deepEqual(streams.get(streamKey(counterOne))?.recent.map((o) => o.commandId), ['r-2', 'r-3', 'r-4']);
  });

  it("keeps two tenants' aggregates of one id apart: versions, state, events and outcomes", () => {
    const partition = emptyPartition(0);
    const acme = record('c-1', 'Increment', { by: 5 }, { tenant: 'acme' });
    // The same command id in both tenants: two commands, not a retry of one.
    const decision = decideBatch(partition, counterApp.domain, [increment, acme], now, noBug);
    assert.deepEqual(decision.events.map((e) => [e.tenant, e.version, e.data]), [
      [defaultTenant, 1, { by: 1, value: 1, label: 'first' }],
      ['acme', 1, { by: 5, value: 5, label: '' }],
    ]);
    const { outcomes, streams } = settle(partition, decision, ['0', '1'], 10, tokens);
    assert.deepEqual(outcomes.map((o) => o.tenant), [defaultTenant, 'acme']);
    assert.deepEqual([...streams.keys()].sort(), ['Counter:counter-1', 'acme/Counter:counter-1']);
    const [, acmeOutcome] = outcomes;
    assert.ok(acmeOutcome?.status === 'accepted');
    assert.throws(() => tokens.decode(acmeOutcome.consistencyToken, defaultTenant), /another tenant/);
  });

  it('refuses to rebuild over a gap in versions', () => {
    const partition = emptyPartition(0);
    const event = { eventId: 'e', type: 'Incremented', tenant: defaultTenant, aggregateType: 'Counter', aggregateId: 'counter-1', commandId: 'c', causationId: 'c', correlationId: 'c', timestamp: '', schemaVersion: 1, data: { by: 1, value: 1, label: 'first' } };
    applyEvent(partition, counterApp.domain, { ...event, version: 1 }, '0', 10, tokens);
    assert.throws(() => { applyEvent(partition, counterApp.domain, { ...event, version: 3 }, '5', 10, tokens); }, /jumps from version 1 to 3/);
  });
});
