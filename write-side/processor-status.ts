/**
 * The command partitions as an operator sees them (`strata processors status`): each
 * partition's latest status from the status topic, whether it is served now, and
 * the commands waiting on it (the commands topic's end less the processors' group
 * offset).
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../shared/config.js';
import { readPartitionsToEnd } from '../shared/partition-reader.js';
import { withAdmin } from '../shared/topic-admin.js';
import { applyStatus, decodeStatus, isServing, statusStaleMs, type PartitionStatus } from './command-processor/partition-status.js';
import { ensureWriteSideTopics, processorGroup, writeSideTopics } from '../shared/topics.js';

export interface PartitionReport {
  partition: number;
  /** Whether a live owner has rebuilt the partition and serves it. */
  serving: boolean;
  /** Whether the latest record is older than a live owner would leave it (its process is gone). */
  stale: boolean;
  /** Commands produced and not yet decided. */
  pendingCommands: number;
  status?: PartitionStatus;
}

export async function processorStatus(kafka: Kafka, config: Config): Promise<PartitionReport[]> {
  const topics = writeSideTopics(config);
  await ensureWriteSideTopics(kafka, config);
  const statuses = new Map<number, PartitionStatus>();
  await readPartitionsToEnd({
    kafka,
    topic: topics.status,
    partitions: [{ partition: 0, from: 0n }],
    groupPrefix: `${config.topics.prefix}.status`,
    onMessages: (_, messages) => {
      for (const message of messages) {
        const status = decodeStatus(message.value);
        if (status !== undefined) applyStatus(statuses, status);
      }
    },
  });
  const pending = await pendingCommands(kafka, config);
  const now = Date.now();
  const staleMs = statusStaleMs(config);
  return [...pending].map(([partition, pendingCommands]) => {
    const status = statuses.get(partition);
    return {
      partition,
      serving: isServing(status, now, staleMs),
      stale: status !== undefined && status.phase !== 'released' && now - Date.parse(status.at) > staleMs,
      pendingCommands,
      ...(status === undefined ? {} : { status }),
    };
  });
}

/** Per commands partition, in order: commands produced and not yet decided (the topic's end less the processors' group offset). */
export async function pendingCommands(kafka: Kafka, config: Config): Promise<Map<number, number>> {
  const topics = writeSideTopics(config);
  const { ends, committed } = await withAdmin(kafka, async (admin) => ({
    ends: await admin.fetchTopicOffsets(topics.commands),
    committed: (await admin.fetchOffsets({ groupId: processorGroup(config), topics: [topics.commands] }))[0]?.partitions ?? [],
  }));
  return new Map(
    ends
      .sort((a, b) => a.partition - b.partition)
      .map(({ partition, offset, low }) => {
        const at = committed.find((entry) => entry.partition === partition)?.offset ?? '-1';
        const from = Number(at) < 0 ? Number(low) : Number(at);
        return [partition, Math.max(0, Number(offset) - from)];
      }),
  );
}
