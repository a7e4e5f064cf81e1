/**
 * The command partitions as an operator sees them (`strata processors status`): each
 * partition's latest status from the status topic, whether it is served now, and
 * the commands waiting on it (the commands topic's end less the processors' group
 * offset).
 */
import type { Config } from '../shared/config.js';
import type { LogClient } from '../shared/kafka/log-client.js';
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

export async function processorStatus(log: LogClient, config: Config): Promise<PartitionReport[]> {
  const topics = writeSideTopics(config);
  await ensureWriteSideTopics(log, config);
  const statuses = new Map<number, PartitionStatus>();
  await log.readToEnd({
    topic: topics.status,
    partitions: [{ partition: 0, from: 0n }],
    onRecords: (_, records) => {
      for (const record of records) {
        const status = decodeStatus(record.value);
        if (status !== undefined) applyStatus(statuses, status);
      }
    },
  });
  const pending = await pendingCommands(log, config);
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
export async function pendingCommands(log: LogClient, config: Config): Promise<Map<number, number>> {
  const topics = writeSideTopics(config);
  const { ends, committed } = await log.withAdmin(async (admin) => ({
    ends: await admin.offsets(topics.commands),
    committed: await admin.committedOffsets(processorGroup(config), topics.commands),
  }));
  return new Map(
    ends.map(({ partition, start, end }) => {
      const from = committed.get(partition) ?? start;
      return [partition, Math.max(0, Number(end - from))];
    }),
  );
}
