/**
 * How far a projection has got: per partition of the events topic, the offset its
 * consumer group committed (everything before it is stored) against the log's end.
 * `strata projections status`, the benchmarks and the tests read it.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../shared/config.js';
import { withAdmin } from '../shared/topic-admin.js';
import { writeSideTopics } from '../write-side/topics.js';
import { projectionGroup } from './projector.js';
import type { Projection } from './projection.js';

export interface PartitionProgress {
  partition: number;
  committed: bigint;
  end: bigint;
  lag: bigint;
}

export async function projectionProgress(
  kafka: Kafka,
  config: Config,
  projection: Pick<Projection, 'name' | 'version'>,
): Promise<PartitionProgress[]> {
  const topic = writeSideTopics(config).events;
  return withAdmin(kafka, async (admin) => {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: projectionGroup(config, projection), topics: [topic] });
    const byPartition = new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, offset === '-1' ? 0n : BigInt(offset)]));
    return ends.map(({ partition, high }) => {
      const end = BigInt(high);
      const done = byPartition.get(partition) ?? 0n;
      return { partition, committed: done, end, lag: end > done ? end - done : 0n };
    });
  });
}

export const totalLag = (progress: readonly PartitionProgress[]) => progress.reduce((sum, entry) => sum + entry.lag, 0n);
