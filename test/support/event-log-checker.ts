/**
 * The independent checker of the write side's guarantees, judged from the
 * committed event log alone (read_committed, offset order):
 * - per aggregate, versions are exactly 1..n;
 * - no command id appears twice;
 * - every acknowledged command id appears, with the acknowledged aggregate and version.
 */
import assert from 'node:assert/strict';
import type { EventEnvelope } from '../../shared/event-envelope.js';

export interface Acknowledgement {
  aggregateId: string;
  version: number;
}

type Logged = Pick<EventEnvelope, 'aggregateType' | 'aggregateId' | 'version' | 'commandId'>;

/**
 * `eventsPerCommand`, when every command of the workload yields that many events,
 * also catches a second append that directly follows the first.
 */
export function checkEventLog(
  committed: readonly Logged[],
  acknowledged: ReadonlyMap<string, Acknowledgement>,
  eventsPerCommand?: number,
): void {
  const versions = new Map<string, number[]>();
  const byCommand = new Map<string, Logged[]>();
  for (const event of committed) {
    const stream = `${event.aggregateType}:${event.aggregateId}`;
    versions.set(stream, [...(versions.get(stream) ?? []), event.version]);
    byCommand.set(event.commandId, [...(byCommand.get(event.commandId) ?? []), event]);
  }
  for (const [stream, seen] of versions) {
    assert.deepEqual(seen, seen.map((_, index) => index + 1), `${stream}: versions 1..n in offset order`);
  }
  for (const [commandId, events] of byCommand) {
    const streams = new Set(events.map((event) => `${event.aggregateType}:${event.aggregateId}`));
    assert.equal(streams.size, 1, `command ${commandId} appended to one aggregate only`);
    const ownVersions = events.map((event) => event.version);
    assert.equal(
      new Set(ownVersions).size,
      ownVersions.length,
      `command ${commandId} appended once (versions ${ownVersions.join(', ')})`,
    );
    if (eventsPerCommand !== undefined) {
      assert.equal(events.length, eventsPerCommand, `command ${commandId} appended once (${events.length} events)`);
    }
    // A command's events are consecutive versions; a later second append would break the run.
    assert.ok(ownVersions.every((version, index) => index === 0 || version === (ownVersions[index - 1] ?? 0) + 1), `command ${commandId} appended once`);
  }
  for (const [commandId, ack] of acknowledged) {
    const events = byCommand.get(commandId);
    assert.ok(events, `acknowledged command ${commandId} is in the log`);
    assert.equal(events[0]?.aggregateId, ack.aggregateId, `command ${commandId} is on the acknowledged aggregate`);
    assert.equal(events[events.length - 1]?.version, ack.version, `command ${commandId} has the acknowledged version`);
  }
}
