/**
 * Every gateway instance reads all command outcomes (read_committed, so only
 * committed transactions), in no consumer group (a follower): the processors write
 * the outcome of every command there, whichever route and gateway brought it. A
 * request waits here for its command's outcome; outcomes stay for later
 * `GET /commands/{id}` on any instance in a bounded map (the last `remembered`
 * commands of the whole deployment), oldest dropped first, each under its tenant and
 * command id: a command id means something only within its tenant. It starts
 * `lookBackMs` back, so that an instance started in a rolling restart answers for the
 * commands answered just before. Reading the topic for an id not in the map is no
 * option: outcomes are on their aggregate's partition, and the id names none.
 *
 * The same consumer reads the processors' status topic from its start, for the
 * gateway's readiness (partition-readiness.ts).
 */
import type { Config } from '../../shared/config.js';
import { fetchWaitMs } from '../../shared/kafka/group-settings.js';
import type { LogClient, LogRecord } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import { decodeOutcome, outcomeKey, type CommandOutcome } from '../command-record.js';
import { decodeStatus } from '../command-processor/partition-status.js';
import { writeSideTopics } from '../../shared/topics.js';
import type { PartitionReadiness } from './partition-readiness.js';

/** About 420 bytes each: some 40 MB. */
const remembered = 100_000;
const lookBackMs = 60_000;

export interface OutcomeListener {
  /** The outcome of `tenant`'s command, or undefined when `timeoutMs` passes first. */
  wait(tenant: string, commandId: string, timeoutMs: number): Promise<CommandOutcome | undefined>;
  get(tenant: string, commandId: string): CommandOutcome | undefined;
  /** An outcome learnt otherwise (a direct answer from the owner), for `get` before its record arrives. */
  remember(outcome: CommandOutcome): void;
  stop(): Promise<void>;
}

/** A record's outcome; undefined, said loudly, for a record no processor could have written. */
function decodedOutcome(record: LogRecord, partition: number, logger: Logger): CommandOutcome | undefined {
  try {
    return decodeOutcome(record);
  } catch (error) {
    logger.error({ partition, offset: record.offset.toString(), err: error }, 'skipping a malformed command outcome');
    return undefined;
  }
}

export async function startOutcomeListener(log: LogClient, config: Config, readiness: PartitionReadiness, logger: Logger): Promise<OutcomeListener> {
  const topics = writeSideTopics(config);
  const outcomes = new Map<string, CommandOutcome>();
  const waiters = new Map<string, ((outcome: CommandOutcome) => void)[]>();
  const learn = (outcome: CommandOutcome) => {
    const key = outcomeKey(outcome.tenant, outcome.commandId);
    outcomes.set(key, outcome);
    if (outcomes.size > remembered) outcomes.delete(outcomes.keys().next().value ?? '');
    for (const resolve of waiters.get(key) ?? []) resolve(outcome);
    waiters.delete(key);
  };
  const recent = await log.withAdmin((admin) => admin.offsetsAt(topics.results, new Date(Date.now() - lookBackMs)));
  // Resolves once positioned: outcomes of commands sent before would be missed.
  const follower = await log.follow({
    name: 'gateway',
    topics: [
      { topic: topics.results, from: recent },
      { topic: topics.status, from: 'beginning' },
    ],
    maxWaitMs: fetchWaitMs(config),
    onBatch: (batch) => {
      if (batch.topic === topics.status) {
        const statuses = batch.records.map((record) => decodeStatus(record.value)).filter((status) => status !== undefined);
        readiness.apply(statuses, batch.next >= batch.highWatermark);
        return;
      }
      for (const record of batch.records) {
        const outcome = decodedOutcome(record, batch.partition, logger);
        if (outcome !== undefined) learn(outcome);
      }
    },
  });

  return {
    get: (tenant, commandId) => outcomes.get(outcomeKey(tenant, commandId)),
    remember: learn,
    wait(tenant, commandId, timeoutMs) {
      const key = outcomeKey(tenant, commandId);
      const known = outcomes.get(key);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const list = waiters.get(key)?.filter((waiter) => waiter !== onOutcome) ?? [];
          if (list.length > 0) waiters.set(key, list);
          else waiters.delete(key);
          resolve(undefined);
        }, timeoutMs);
        const onOutcome = (outcome: CommandOutcome) => {
          clearTimeout(timer);
          resolve(outcome);
        };
        waiters.set(key, [...(waiters.get(key) ?? []), onOutcome]);
      });
    },
    stop: () => follower.stop(),
  };
}
