/**
 * What a decided batch settles once its events have offsets, all pure: each command's
 * outcome (its consistency token names its last event's offset), the streams with those
 * outcomes remembered, which snapshots the transaction writes, and, once it has committed,
 * the partition's state. Which snapshots: every `STRATA_CHECKPOINT_EVERY` events a
 * checkpoint, a snapshot of every stream changed since the last one, then the events offset
 * a rebuild may start from. Between checkpoints, only the streams of refused commands:
 * a refusal leaves no event behind, and its snapshot keeps the outcome for retries.
 */
import type { OutgoingRecord } from '../../shared/kafka/log-client.js';
import type { Domain } from '../decider/domain.js';
import { requestOf, type CommandOutcome, type CommandRecord } from '../command-record.js';
import type { ConsistencyTokens } from '../../shared/consistency-token.js';
import {
  checkpointKey,
  remember,
  streamKey,
  streamSnapshot,
  type Decision,
  type PartitionState,
  type SnapshotRecord,
  type StreamState,
} from './partition-state.js';

export interface BatchSnapshots {
  records: OutgoingRecord[];
  /** The batch takes a checkpoint: once it commits, no stream is dirty. */
  checkpoint: boolean;
}

export function batchSnapshots(
  domain: Domain,
  state: PartitionState,
  batch: { commands: readonly CommandRecord[]; decision: Decision; streams: Map<string, StreamState>; eventOffsets: readonly string[] },
  checkpointEvery: number,
): BatchSnapshots {
  const { commands, decision, streams, eventOffsets } = batch;
  const snapshotOf = (stream: StreamState): OutgoingRecord => ({
    key: streamKey(stream),
    value: JSON.stringify(streamSnapshot(domain, stream)),
    partition: state.partition,
  });
  const lastOffset = eventOffsets[eventOffsets.length - 1];
  // A checkpoint needs an offset to record: only a batch that appends events takes one.
  if (lastOffset !== undefined && state.eventsSinceCheckpoint + decision.events.length >= checkpointEvery) {
    const records: OutgoingRecord[] = [];
    for (const key of new Set([...state.dirty, ...streams.keys()])) {
      const stream = streams.get(key) ?? state.streams.get(key);
      if (stream !== undefined) records.push(snapshotOf(stream));
    }
    const checkpoint: SnapshotRecord = { kind: 'checkpoint', eventsOffset: (BigInt(lastOffset) + 1n).toString() };
    records.push({ key: checkpointKey, value: JSON.stringify(checkpoint), partition: state.partition });
    return { records, checkpoint: true };
  }
  const records: OutgoingRecord[] = [];
  for (const [index, result] of decision.results.entries()) {
    if (!('outcome' in result) || result.outcome.status !== 'rejected') continue;
    const command = commands[index];
    const stream = command && streams.get(streamKey(command));
    if (stream) records.push(snapshotOf(stream));
  }
  return { records, checkpoint: false };
}

/**
 * The outcomes once the events have offsets, and the stream states with those
 * outcomes remembered (trimmed to the idempotency window).
 */
export function settle(
  partition: PartitionState,
  decision: Decision,
  eventOffsets: readonly string[],
  window: number,
  tokens: Pick<ConsistencyTokens, 'encode'>,
): { outcomes: CommandOutcome[]; streams: Map<string, StreamState> } {
  const streams = new Map<string, StreamState>();
  const settled = decision.results.map((result): CommandOutcome | undefined => {
    if ('outcome' in result) return result.outcome;
    if ('sameAs' in result) return undefined;
    const { accepted, eventIndexes } = result;
    const lastIndex = eventIndexes[eventIndexes.length - 1];
    const lastEvent = lastIndex === undefined ? undefined : decision.events[lastIndex];
    const lastOffset = lastIndex === undefined ? undefined : eventOffsets[lastIndex];
    const outcome: CommandOutcome = {
      status: 'accepted',
      commandId: accepted.commandId,
      tenant: accepted.tenant,
      aggregateId: accepted.aggregateId,
      request: requestOf(accepted),
      version: lastEvent?.version ?? 0,
      events: eventIndexes.map((index) => decision.events[index]?.type ?? ''),
      consistencyToken: tokens.encode(accepted.tenant, lastOffset === undefined ? {} : { [partition.partition]: lastOffset }),
    };
    return outcome;
  });
  const outcomes = decision.results.map((result, index) => {
    const outcome = settled['sameAs' in result ? result.sameAs : index];
    if (outcome === undefined) throw new Error('a batch result refers to no outcome');
    return outcome;
  });
  for (const [key, stream] of decision.streams) {
    let next = { ...stream, recent: stream.recent.slice(-window) };
    decision.results.forEach((result, index) => {
      const outcome = outcomes[index];
      if ('accepted' in result && outcome !== undefined && streamKey(result.accepted) === key) {
        next = remember(next, outcome, window);
      }
    });
    streams.set(key, next);
  }
  return { outcomes, streams };
}

/** Takes a committed batch's streams into the partition; a checkpoint leaves no stream dirty. */
export function applyCommitted(partition: PartitionState, streams: ReadonlyMap<string, StreamState>, eventsAppended: number, checkpoint: boolean): void {
  for (const [key, stream] of streams) {
    partition.streams.set(key, stream);
    partition.dirty.add(key);
  }
  if (checkpoint) {
    partition.eventsSinceCheckpoint = 0;
    partition.dirty.clear();
  } else {
    partition.eventsSinceCheckpoint += eventsAppended;
  }
}
