/**
 * A decided batch written in one Kafka transaction, then taken into the partition's
 * state (only once committed: a failed transaction leaves memory as it was): its events, then (once they have
 * offsets) its outcomes and snapshots, and the consumed command offset when the batch
 * came from the commands topic. The outcomes go to the command-results topic whichever
 * route brought the commands: a gateway waits there for a command it produced, and any
 * gateway answers `GET /commands/{id}` from there; never visible before their events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeEvent } from '../../shared/event-envelope.js';
import type { LogRecord, TransactionalProducer } from '../../shared/kafka/log-client.js';
import { processorGroup, writeSideTopics } from '../../shared/topics.js';
import { encodeOutcome, type CommandOutcome, type CommandRecord } from '../command-record.js';
import type { OwnerContext } from './owner-context.js';
import { applyCommitted, batchSnapshots, settle } from './batch-settlement.js';
import type { Decision, PartitionState } from './partition-state.js';

export interface BatchToWrite {
  commands: readonly CommandRecord[];
  decision: Decision;
  /** The last command record of a batch read from the commands topic. */
  consumed: LogRecord | undefined;
  /** The trace context each event carries on, by its index in the decision. */
  eventTraceparent: (index: number) => string | undefined;
}

export async function writeBatch(
  context: OwnerContext,
  producer: TransactionalProducer,
  state: PartitionState,
  batch: BatchToWrite,
): Promise<CommandOutcome[]> {
  const { config, domain, logger, tokens } = context;
  const { partition } = state;
  const topics = writeSideTopics(config);
  // Every batch writes its outcomes; events and snapshots only sometimes.
  const transaction = await producer.begin([{ topic: topics.results, partition }]);
  try {
    const eventRecords = batch.decision.events.map((event, index) => ({ ...encodeEvent(event, batch.eventTraceparent(index)), partition }));
    const eventOffsets = (await transaction.append(topics.events, eventRecords)).map(String);
    const { outcomes, streams } = settle(state, batch.decision, eventOffsets, config.writeSide.idempotencyWindow, tokens);
    const snapshots = batchSnapshots(domain, state, { ...batch, streams, eventOffsets }, config.writeSide.checkpointEvery);
    const outcomeRecords = outcomes.map((outcome) => encodeOutcome(outcome, partition));
    if (outcomeRecords.length + snapshots.records.length > 0) {
      await transaction.send([
        { topic: topics.results, records: outcomeRecords },
        { topic: topics.snapshots, records: snapshots.records },
      ]);
    }
    if (batch.consumed !== undefined) {
      await transaction.commitConsumed(processorGroup(config), [{ topic: topics.commands, partition, offset: batch.consumed.offset + 1n }]);
    }
    if (config.writeSide.testPauseBeforeCommitMs > 0) {
      // The fault test waits for this line to strike inside an open transaction.
      logger.info({ partition }, 'test hook: transaction open, pausing before commit');
      await sleep(config.writeSide.testPauseBeforeCommitMs);
    }
    await transaction.commit();
    applyCommitted(state, streams, batch.decision.events.length, snapshots.checkpoint);
    return outcomes;
  } catch (error) {
    if (transaction.isActive()) await transaction.abort().catch(() => undefined);
    throw error;
  }
}
