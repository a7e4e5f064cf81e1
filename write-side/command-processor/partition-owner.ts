/**
 * The owner of one partition: the only writer of events partition p.
 *
 * Taking the partition: fence first (a transactional producer with the
 * partition's transactional id and a first transaction: any earlier owner's open
 * transaction is aborted and its producer can never commit again), then rebuild
 * the partition's state read_committed from the snapshots topic and the events
 * after the last checkpoint (partition-rebuild.ts), then serve.
 *
 * Serving (group commit): one Kafka transaction per batch of commands holds the
 * events, the outcomes, the snapshots and the consumed command offsets. A batch is
 * decided (partition-state.ts), then written and, once committed, taken into memory
 * (batch-transaction.ts, with batch-settlement.ts); tracing (batch-tracing.ts) and
 * metrics wrap those steps. A failed or fenced transaction leaves the owner unusable,
 * and the processor drops it.
 */
import { eventHeaders, headerValue } from '../../shared/event-envelope.js';
import type { LogRecord, TransactionalProducer } from '../../shared/kafka/log-client.js';
import { withSpan } from '../../shared/trace-context.js';
import { transactionalId } from '../../shared/topics.js';
import { outcomeLabel, processedCommands, processorBatchSize, processorTransactionDuration } from '../command-metrics.js';
import { decodeCommand, type CommandOutcome, type CommandRecord } from '../command-record.js';
import { writeBatch } from './batch-transaction.js';
import { tracedBatch, type BatchTrace, type Submitted } from './batch-tracing.js';
import type { OwnerContext } from './owner-context.js';
import { rebuild } from './partition-rebuild.js';
import { decideBatch, type PartitionState } from './partition-state.js';

export type { OwnerContext } from './owner-context.js';

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

export async function takePartition(context: OwnerContext, partition: number): Promise<PartitionOwner> {
  const { log, config, logger } = context;
  context.status.phase(partition, 'fencing');
  const producer = await log.transactionalProducer({ transactionalId: transactionalId(config, partition), transactionTimeoutMs: config.writeSide.transactionTimeoutMs });
  try {
    await producer.fence();
    context.status.phase(partition, 'rebuilding');
    logger.info({ partition }, 'partition fenced; rebuilding its state');
    return serve(context, producer, await rebuild(context, partition));
  } catch (error) {
    await producer.stop();
    throw error;
  }
}

/** An owner serving its rebuilt partition: batches from the topic and direct commands take turns. */
function serve(context: OwnerContext, producer: TransactionalProducer, state: PartitionState): PartitionOwner {
  const { partition } = state;
  let usable = true;
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work);
    turn = run.catch(() => undefined);
    return run;
  };
  const commit = async (submitted: readonly Submitted[], consumed?: LogRecord): Promise<CommandOutcome[]> => {
    if (!usable) throw new Error(`the owner of partition ${partition} was dropped`);
    try {
      return await commitBatch(context, producer, state, submitted, consumed);
    } catch (error) {
      usable = false;
      throw error;
    }
  };
  const decideDirect = directQueue(commit, exclusive);
  return {
    partition,
    process: (records) => {
      const last = records[records.length - 1];
      if (last === undefined) return Promise.resolve();
      return exclusive(() => commit(submittedOf(context, partition, records), last)).then(() => undefined);
    },
    decide: (command, traceparent) => decideDirect({ command, traceparent }),
    async close() {
      usable = false;
      await producer.stop();
    },
  };
}

/** Direct commands in one transaction, at most (a bound on its size and on the wait of the last). */
const maxDirectBatch = 500;

interface Waiting extends Submitted {
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Commands handed over directly by gateways wait for the owner's next transaction: those
 * that arrive while one is under way go together in the next. `commit` decides and commits
 * a batch, resolving to its outcomes in order; `turn` runs work in the owner's
 * one-transaction-at-a-time order.
 */
function directQueue(
  commit: (batch: readonly Submitted[]) => Promise<CommandOutcome[]>,
  turn: (work: () => Promise<void>) => Promise<void>,
): (submitted: Submitted) => Promise<CommandOutcome> {
  let waiting: Waiting[] = [];
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
    void turn(drain);
  };
  return (submitted) =>
    new Promise<CommandOutcome>((resolve, reject) => {
      waiting.push({ ...submitted, resolve, reject });
      queueDrain();
    });
}

/** Decides the commands and commits them in one transaction; resolves to their outcomes, in order. */
function commitBatch(
  context: OwnerContext,
  producer: TransactionalProducer,
  state: PartitionState,
  submitted: readonly Submitted[],
  consumed: LogRecord | undefined,
): Promise<CommandOutcome[]> {
  const commands = submitted.map(({ command }) => command);
  return tracedBatch(state.partition, submitted, consumed !== undefined, async (trace) => {
    const decideStart = Date.now();
    const decision = decideBatch(state, context.domain, commands, new Date(), (command, error) => {
      context.logger.error({ commandId: command.commandId, err: error }, 'the decider failed unexpectedly');
    });
    trace.decided(decision, decideStart);
    const outcomes = await metered(commands, () =>
      writeBatch(context, producer, state, { commands, decision, consumed, eventTraceparent: trace.eventTraceparent }),
    );
    logCommitted(context, state.partition, trace, commands, outcomes);
    return outcomes;
  });
}

/** The batch's size, its transaction's duration and result, and each command's outcome. */
async function metered(commands: readonly CommandRecord[], write: () => Promise<CommandOutcome[]>): Promise<CommandOutcome[]> {
  processorBatchSize.observe(commands.length);
  const endTransactionTimer = processorTransactionDuration.startTimer();
  let outcomes: CommandOutcome[];
  try {
    outcomes = await write();
  } catch (error) {
    endTransactionTimer({ result: 'failed' });
    throw error;
  }
  endTransactionTimer({ result: 'committed' });
  outcomes.forEach((outcome, index) => {
    const command = commands[index];
    if (command !== undefined) processedCommands.inc({ command_type: command.commandType, outcome: outcomeLabel(outcome) });
  });
  return outcomes;
}

function logCommitted(context: OwnerContext, partition: number, trace: BatchTrace, commands: readonly CommandRecord[], outcomes: readonly CommandOutcome[]): void {
  if (!context.logger.isLevelEnabled('debug')) return;
  outcomes.forEach((outcome, index) => {
    const command = commands[index];
    if (command === undefined) return;
    // In the command's span, so the line carries its trace_id and span_id.
    withSpan(trace.commandSpan(command.commandId), () => {
      context.logger.debug({ partition, commandId: command.commandId, outcome: outcomeLabel(outcome) }, 'command committed');
    });
  });
}

function submittedOf(context: OwnerContext, partition: number, records: readonly LogRecord[]): Submitted[] {
  const submitted: Submitted[] = [];
  for (const record of records) {
    try {
      submitted.push({ command: decodeCommand(record), traceparent: headerValue(record.headers, eventHeaders.traceparent) });
    } catch (error) {
      // Only the gateway writes commands; a record it could not have written is skipped, loudly.
      context.logger.error({ partition, offset: record.offset.toString(), err: error }, 'skipping a malformed command record');
    }
  }
  return submitted;
}
