/**
 * Rebuilding a partition's state when its owner takes it: the snapshots topic
 * first (the streams' states and the last checkpoint), then the events after the
 * checkpoint, both read_committed, with progress on the status topic.
 */
import { decodeEvent } from '../../shared/event-envelope.js';
import { writeSideTopics } from '../../shared/topics.js';
import type { OwnerContext } from './owner-context.js';
import { applyEvent, applySnapshot, emptyPartition, type PartitionState } from './partition-state.js';
import { decodeSnapshot } from './snapshot-record.js';

export async function rebuild(context: OwnerContext, partition: number): Promise<PartitionState> {
  const state = emptyPartition(partition);
  const started = Date.now();
  const checkpoint = await readSnapshots(context, state);
  const snapshotsRead = Date.now();
  context.status.progress(partition, { checkpoint: checkpoint.toString(), replayed: 0 });
  context.logger.info({ partition, streams: state.streams.size, checkpoint: checkpoint.toString() }, 'snapshots read; replaying the events after the checkpoint');
  const replayed = await replayEvents(context, state, checkpoint);
  state.eventsSinceCheckpoint = replayed;
  const done = Date.now();
  const replaySeconds = (done - snapshotsRead) / 1000;
  context.logger.info(
    {
      partition,
      streams: state.streams.size,
      checkpoint: checkpoint.toString(),
      replayed,
      seconds: (done - started) / 1000,
      snapshotSeconds: (snapshotsRead - started) / 1000,
      replaySeconds,
      eventsPerSecond: Math.round(replayed / Math.max(replaySeconds, 0.001)),
    },
    'partition state rebuilt',
  );
  return state;
}

/** Takes the partition's snapshots into `state`; resolves to the events offset to replay from. */
async function readSnapshots(context: OwnerContext, state: PartitionState): Promise<bigint> {
  const { log, config, domain, signal } = context;
  const { partition } = state;
  let checkpoint = 0n;
  let stale = 0;
  await log.readToEnd({
    topic: writeSideTopics(config).snapshots,
    partitions: [{ partition, from: 0n }],
    signal,
    onRecords: (_, records) => {
      for (const { value } of records) {
        const record = decodeSnapshot(value);
        if (record === null) continue;
        if (record.kind === 'checkpoint') checkpoint = BigInt(record.eventsOffset);
        else if (!applySnapshot(state, domain, record)) stale += 1;
      }
    },
  });
  if (stale === 0) return checkpoint;
  // Each stream's events are folded again under today's schemas; snapshots that still hold skip theirs.
  context.logger.warn({ partition, staleSnapshots: stale }, "snapshots taken under other event schemas: refolding the partition's events from the start");
  return 0n;
}

/** Folds the events from `checkpoint` to the partition's end into `state`; resolves to how many. */
async function replayEvents(context: OwnerContext, state: PartitionState, checkpoint: bigint): Promise<number> {
  const { log, config, domain, status, signal } = context;
  const { partition } = state;
  let replayed = 0;
  const ends = await log.readToEnd({
    topic: writeSideTopics(config).events,
    partitions: [{ partition, from: checkpoint }],
    signal,
    onRecords: (_, records) => {
      for (const record of records) {
        applyEvent(state, domain, decodeEvent(record), record.offset.toString(), config.writeSide.idempotencyWindow, context.tokens);
        replayed += 1;
      }
    },
    onProgress: ({ position, end }) => {
      status.progress(partition, { rebuilt: position.toString(), rebuildEnd: end.toString(), replayed });
    },
  });
  const end = ends.get(partition) ?? checkpoint;
  status.progress(partition, { rebuilt: end.toString(), rebuildEnd: end.toString(), replayed });
  return replayed;
}
