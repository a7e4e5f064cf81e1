/**
 * Every gateway instance reads all command outcomes (read_committed, so only
 * committed transactions), from a consumer group of its own. A request waits here
 * for its command's outcome; outcomes stay for later `GET /commands/{id}` in a
 * bounded map, oldest dropped first.
 *
 * The same consumer reads the processors' status topic from its start, for the
 * gateway's readiness (partition-readiness.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Config } from '../../shared/config.js';
import { decodeOutcome, type CommandOutcome } from '../command-record.js';
import { decodeStatus } from '../command-processor/partition-status.js';
import { fetchWaitMs } from '../../shared/kafka-client.js';
import { writeSideTopics } from '../../shared/topics.js';
import type { PartitionReadiness } from './partition-readiness.js';

const remembered = 100_000;

export interface OutcomeListener {
  /** The outcome, or undefined when `timeoutMs` passes first. */
  wait(commandId: string, timeoutMs: number): Promise<CommandOutcome | undefined>;
  get(commandId: string): CommandOutcome | undefined;
  /** An outcome learnt otherwise (a direct answer from the owner), for later `get`. */
  remember(outcome: CommandOutcome): void;
  stop(): Promise<void>;
}

export async function startOutcomeListener(kafka: Kafka, config: Config, readiness: PartitionReadiness): Promise<OutcomeListener> {
  const topics = writeSideTopics(config);
  const outcomes = new Map<string, CommandOutcome>();
  const waiters = new Map<string, ((outcome: CommandOutcome) => void)[]>();
  const learn = (outcome: CommandOutcome) => {
    outcomes.set(outcome.commandId, outcome);
    if (outcomes.size > remembered) outcomes.delete(outcomes.keys().next().value ?? '');
    for (const resolve of waiters.get(outcome.commandId) ?? []) resolve(outcome);
    waiters.delete(outcome.commandId);
  };
  const consumer = kafka.consumer({
    groupId: `${config.topics.prefix}.gateway-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: fetchWaitMs(config),
  });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => { resolve(); }));
  await consumer.connect();
  await consumer.subscribe({ topic: topics.results, fromBeginning: false });
  await consumer.subscribe({ topic: topics.status, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (batch.topic === topics.status) {
        const statuses = batch.messages.map((message) => decodeStatus(message.value)).filter((status) => status !== undefined);
        readiness.apply(statuses, BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark));
        return Promise.resolve();
      }
      for (const message of batch.messages) learn(decodeOutcome(message));
      return Promise.resolve();
    },
  });
  // Outcomes of commands sent before the group was joined would be missed.
  await joined;

  return {
    get: (commandId) => outcomes.get(commandId),
    remember: learn,
    wait(commandId, timeoutMs) {
      const known = outcomes.get(commandId);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const list = waiters.get(commandId)?.filter((waiter) => waiter !== onOutcome) ?? [];
          if (list.length > 0) waiters.set(commandId, list);
          else waiters.delete(commandId);
          resolve(undefined);
        }, timeoutMs);
        const onOutcome = (outcome: CommandOutcome) => {
          clearTimeout(timer);
          resolve(outcome);
        };
        waiters.set(commandId, [...(waiters.get(commandId) ?? []), onOutcome]);
      });
    },
    stop: () => consumer.disconnect(),
  };
}
