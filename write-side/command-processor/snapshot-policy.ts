/**
 * Which snapshots a batch's transaction writes. Every `STRATA_CHECKPOINT_EVERY` events a
 * checkpoint: a snapshot of every stream changed since the last one, then the events offset
 * a rebuild may start from. Between checkpoints, only the streams of refused commands:
 * a refusal leaves no event behind, and its snapshot keeps the outcome for retries.
 */
import type { OutgoingRecord } from '../../shared/kafka/log-client.js';
import type { Domain } from '../decider/domain.js';
import type { CommandRecord } from '../command-record.js';
import {
  checkpointKey,
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
