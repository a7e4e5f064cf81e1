/**
 * The owner of one partition: the only writer of events partition p.
 *
 * Taking the partition: fence first (a transactional producer with the
 * partition's transactional id and a first transaction: any earlier owner's open
 * transaction is aborted and its producer can never commit again), then rebuild
 * the partition's state read_committed from the snapshots topic and the events
 * after the last checkpoint, then serve.
 *
 * Serving (group commit): one Kafka transaction per batch of commands holds the
 * events, the outcomes, the snapshots and the consumed command offsets. Memory is
 * updated only after the commit; a failed or fenced transaction leaves the owner
 * unusable, and the processor drops it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../shared/config.js';
import { decodeEvent, encodeEvent, eventHeaders, headerValue } from '../../shared/event-envelope.js';
import { SpanKind, contextOf, failSpan, linkTo, startSpan, traceparentOf, validTraceparent, withSpan } from '../../shared/trace-context.js';
import type { Span } from '@opentelemetry/api';
import type { Logger } from '../../shared/logger.js';
import type { LogClient, LogRecord, OutgoingRecord } from '../../shared/kafka/log-client.js';
import { processedCommands, processorBatchSize, processorTransactionDuration, outcomeLabel } from '../command-metrics.js';
import { decodeCommand, encodeOutcome, type CommandOutcome, type CommandRecord } from '../command-record.js';
import type { Domain } from '../decider/domain.js';
import { processorGroup, transactionalId, writeSideTopics } from '../../shared/topics.js';
import type { StatusPublisher } from './status-publisher.js';
import {
  applyEvent,
  applySnapshot,
  streamSnapshot,
  checkpointKey,
  decideBatch,
  emptyPartition,
  settle,
  streamKey,
  type PartitionState,
  type SnapshotRecord,
  type StreamState,
} from './partition-state.js';
import type { ConsistencyTokens } from '../../shared/consistency-token.js';

export interface PartitionOwner {
  partition: number;
  /** Decides and commits a batch of command records read from the commands topic; resolves once committed. */
  process(records: readonly LogRecord[]): Promise<void>;
  /**
   * Decides a command handed over directly by a gateway; resolves to its outcome once
   * committed. Commands that arrive while a transaction is under way go together in
   * the next one.
   */
  decide(command: CommandRecord, traceparent: string | undefined): Promise<CommandOutcome>;
  close(): Promise<void>;
}

/** A command and the trace context it travels in. */
interface Submitted {
  command: CommandRecord;
  traceparent: string | undefined;
}

/** Direct commands in one transaction, at most (a bound on its size and on the wait of the last). */
const maxDirectBatch = 500;

export interface OwnerContext {
  log: LogClient;
  config: Config;
  domain: Domain;
  logger: Logger;
  status: StatusPublisher;
  /** Signs the consistency tokens of the outcomes. */
  tokens: ConsistencyTokens;
  /** Abandons the rebuild (the partition was taken away meanwhile). */
  signal: AbortSignal;
}

async function rebuild(context: OwnerContext, partition: number): Promise<PartitionState> {
  const { log, config, domain, status, signal } = context;
  const topics = writeSideTopics(config);
  const state = emptyPartition(partition);
  const started = Date.now();
  let checkpoint = 0n;
  let stale = 0;
  await log.readToEnd({
    topic: topics.snapshots,
    partitions: [{ partition, from: 0n }],
    signal,
    onRecords: (_, records) => {
      for (const { value } of records) {
        const record = JSON.parse(value?.toString('utf8') ?? 'null') as SnapshotRecord | null;
        if (record === null) continue;
        if (record.kind === 'checkpoint') checkpoint = BigInt(record.eventsOffset);
        else if (!applySnapshot(state, domain, record)) stale += 1;
      }
    },
  });
  if (stale > 0) {
    // Each stream's events are folded again under today's schemas; snapshots that still hold skip theirs.
    context.logger.warn({ partition, staleSnapshots: stale }, "snapshots taken under other event schemas: refolding the partition's events from the start");
    checkpoint = 0n;
  }
  let replayed = 0;
  const snapshotsRead = Date.now();
  status.progress(partition, { checkpoint: checkpoint.toString(), replayed });
  context.logger.info({ partition, streams: state.streams.size, checkpoint: checkpoint.toString() }, 'snapshots read; replaying the events after the checkpoint');
  const ends = await log.readToEnd({
    topic: topics.events,
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
  state.eventsSinceCheckpoint = replayed;
  const end = ends.get(partition) ?? checkpoint;
  status.progress(partition, { rebuilt: end.toString(), rebuildEnd: end.toString(), replayed });
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

function snapshotRecord(domain: Domain, partition: number, stream: StreamState): OutgoingRecord {
  return { key: streamKey(stream), value: JSON.stringify(streamSnapshot(domain, stream)), partition };
}

export async function takePartition(context: OwnerContext, partition: number): Promise<PartitionOwner> {
  const { log, config, domain, logger } = context;
  const topics = writeSideTopics(config);
  const window = config.writeSide.idempotencyWindow;
  context.status.phase(partition, 'fencing');
  const producer = await log.transactionalProducer({ transactionalId: transactionalId(config, partition), transactionTimeoutMs: config.writeSide.transactionTimeoutMs });
  let state: PartitionState;
  try {
    await producer.fence();
    context.status.phase(partition, 'rebuilding');
    logger.info({ partition }, 'partition fenced; rebuilding its state');
    state = await rebuild(context, partition);
  } catch (error) {
    await producer.stop();
    throw error;
  }
  let usable = true;

  // One transaction at a time: batches from the topic and direct commands take turns.
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work);
    turn = run.catch(() => undefined);
    return run;
  };

  /**
   * Decides the commands and commits them in one transaction; resolves to their
   * outcomes, in order. The outcomes go to the command-results topic in the same
   * transaction, whichever route brought the commands: a gateway waits there for a
   * command it produced, and any gateway answers `GET /commands/{id}` from there for a
   * command another one handed over directly; never visible before its events.
   * `consumed`: the last command record of a batch read from the commands topic,
   * whose offset commits with the transaction.
   */
  async function commit(submitted: readonly Submitted[], consumed?: LogRecord): Promise<CommandOutcome[]> {
    if (!usable) throw new Error(`the owner of partition ${partition} was dropped`);
    const commands = submitted.map(({ command }) => command);
    // Each command is handled in a span of its own, child of its record's trace context;
    // the events it produces are sent in spans under it and carry that context on.
    const spans = new Map<string, Span>();
    const spansEnded: Span[] = [];
    const started = Date.now();
    for (const { command, traceparent } of submitted) {
      const span = startSpan(`process ${command.commandType}`, {
        kind: consumed === undefined ? SpanKind.INTERNAL : SpanKind.CONSUMER,
        parent: contextOf(validTraceparent(traceparent)),
        startTime: started,
        attributes: { 'strata.command.id': command.commandId, 'strata.aggregate.id': command.aggregateId, 'messaging.kafka.partition': partition },
      });
      spans.set(command.commandId, span);
      spansEnded.push(span);
    }
    const decideStart = Date.now();
    const decision = decideBatch(state, domain, commands, new Date(), (command, error) => {
      logger.error({ commandId: command.commandId, err: error }, 'the decider failed unexpectedly');
    });
    // One transaction for the whole batch: a span of its own, linked to every command's,
    // and under each command a decide and a transaction span over the batch's phases.
    const decided = Date.now();
    const batchSpan = startSpan('commit command batch', {
      kind: SpanKind.INTERNAL,
      parent: contextOf(undefined),
      startTime: decided,
      links: [...spans.values()].filter((span) => span.isRecording()).map(linkTo),
      attributes: { 'messaging.kafka.partition': partition, 'strata.batch.commands': commands.length, 'strata.batch.events': decision.events.length },
    });
    const phase = (name: string, startTime: number) =>
      [...spans.values()].map((span) =>
        startSpan(name, { kind: SpanKind.INTERNAL, parent: span, startTime, links: [linkTo(batchSpan)] }),
      );
    for (const span of phase('decide', decideStart)) span.end(decided);
    const transactionSpans = phase('transaction', decided);
    const eventSpans = decision.events.map((event) => {
      const commandSpan = spans.get(event.commandId);
      return startSpan(`send ${event.type}`, {
        kind: SpanKind.PRODUCER,
        parent: commandSpan ?? contextOf(undefined),
        startTime: decided,
        attributes: { 'strata.event.id': event.eventId, 'strata.aggregate.id': event.aggregateId, 'strata.aggregate.version': event.version },
      });
    });
    spansEnded.push(...transactionSpans, ...eventSpans, batchSpan);

    processorBatchSize.observe(commands.length);
    const endTransactionTimer = processorTransactionDuration.startTimer();
    // Every batch writes its outcomes; events and snapshots only sometimes.
    const transaction = await producer.begin([{ topic: topics.results, partition }]);
    try {
      const eventRecords = decision.events.map((event, index) => ({ ...encodeEvent(event, traceparentOf(eventSpans[index])), partition }));
      const eventOffsets = (await transaction.append(topics.events, eventRecords)).map(String);
      const { outcomes, streams } = settle(state, decision, eventOffsets, window, context.tokens);

      state.eventsSinceCheckpoint += decision.events.length;
      // A checkpoint needs an offset to record: only a batch that appends events takes one.
      const checkpointDue =
        eventOffsets.length > 0 && state.eventsSinceCheckpoint >= config.writeSide.checkpointEvery;
      const snapshots: OutgoingRecord[] = [];
      if (checkpointDue) {
        for (const key of new Set([...state.dirty, ...streams.keys()])) {
          const stream = streams.get(key) ?? state.streams.get(key);
          if (stream !== undefined) snapshots.push(snapshotRecord(domain, partition, stream));
        }
        const next = BigInt(eventOffsets[eventOffsets.length - 1] ?? '0') + 1n;
        const record: SnapshotRecord = { kind: 'checkpoint', eventsOffset: next.toString() };
        snapshots.push({ key: checkpointKey, value: JSON.stringify(record), partition });
      } else {
        // Refusals leave no event behind: the snapshot keeps their outcome for retries.
        for (const [index, result] of decision.results.entries()) {
          if (!('outcome' in result) || result.outcome.status !== 'rejected') continue;
          const command = commands[index];
          const stream = command && streams.get(streamKey(command));
          if (stream) snapshots.push(snapshotRecord(domain, partition, stream));
        }
      }
      const outcomeRecords = outcomes.map((outcome) => encodeOutcome(outcome, partition));
      if (outcomeRecords.length + snapshots.length > 0) {
        await transaction.send([
          { topic: topics.results, records: outcomeRecords },
          { topic: topics.snapshots, records: snapshots },
        ]);
      }
      if (consumed !== undefined) {
        await transaction.commitConsumed(processorGroup(config), [{ topic: topics.commands, partition, offset: consumed.offset + 1n }]);
      }
      if (config.writeSide.testPauseBeforeCommitMs > 0) {
        // The fault test waits for this line to strike inside an open transaction.
        logger.info({ partition }, 'test hook: transaction open, pausing before commit');
        await sleep(config.writeSide.testPauseBeforeCommitMs);
      }
      await transaction.commit();
      endTransactionTimer({ result: 'committed' });
      const debug = logger.isLevelEnabled('debug');
      for (const [index, outcome] of outcomes.entries()) {
        const command = commands[index];
        if (command === undefined) continue;
        const label = outcomeLabel(outcome);
        processedCommands.inc({ command_type: command.commandType, outcome: label });
        const span = spans.get(command.commandId);
        // In the command's span, so the line carries its trace_id and span_id.
        if (debug) withSpan(span, () => { logger.debug({ partition, commandId: command.commandId, outcome: label }, 'command committed'); });
      }

      for (const [key, stream] of streams) {
        state.streams.set(key, stream);
        state.dirty.add(key);
      }
      if (checkpointDue) {
        state.eventsSinceCheckpoint = 0;
        state.dirty.clear();
      }
      return outcomes;
    } catch (error) {
      endTransactionTimer({ result: 'failed' });
      usable = false;
      failSpan(batchSpan, error);
      if (transaction.isActive()) await transaction.abort().catch(() => undefined);
      throw error;
    } finally {
      const ended = Date.now();
      for (const span of spansEnded.reverse()) span.end(ended);
    }
  }

  function process(records: readonly LogRecord[]): Promise<void> {
    const last = records[records.length - 1];
    if (last === undefined) return Promise.resolve();
    const submitted: Submitted[] = [];
    for (const record of records) {
      try {
        submitted.push({ command: decodeCommand(record), traceparent: headerValue(record.headers, eventHeaders.traceparent) });
      } catch (error) {
        // Only the gateway writes commands; a record it could not have written is skipped, loudly.
        logger.error({ partition, offset: record.offset.toString(), err: error }, 'skipping a malformed command record');
      }
    }
    return exclusive(() => commit(submitted, last)).then(() => undefined);
  }

  let waiting: (Submitted & { resolve: (outcome: CommandOutcome) => void; reject: (error: unknown) => void })[] = [];
  let drainQueued = false;
  const drain = async () => {
    drainQueued = false;
    const batch = waiting.slice(0, maxDirectBatch);
    waiting = waiting.slice(batch.length);
    if (waiting.length > 0) queueDrain();
    try {
      const outcomes = await commit(batch);
      batch.forEach(({ resolve }, index) => {
        const outcome = outcomes[index];
        if (outcome !== undefined) resolve(outcome);
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  };
  const queueDrain = () => {
    if (drainQueued) return;
    drainQueued = true;
    void exclusive(drain);
  };

  return {
    partition,
    process,
    decide(command, traceparent) {
      return new Promise<CommandOutcome>((resolve, reject) => {
        waiting.push({ command, traceparent, resolve, reject });
        queueDrain();
      });
    },
    async close() {
      usable = false;
      await producer.stop();
    },
  };
}
