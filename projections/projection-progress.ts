/**
 * How far a projection has got: per partition of the events topic, the offset its
 * consumer group committed (everything before it is stored) against the log's end.
 * `strata projections status`, the lag metric, the benchmarks and the tests read it.
 */
import type { Config } from '../shared/config.js';
import type { LogAdmin } from '../shared/kafka/log-client.js';
import { writeSideTopics } from '../shared/topics.js';
import { projectionId } from '../shared/projection-id.js';
import type { Projection } from './projection.js';

/** The consumer group of a projection version. */
export const projectionGroup = (config: Pick<Config, 'topics'>, projection: Pick<Projection, 'name' | 'version'>) =>
  `${config.topics.prefix}.projection.${projectionId(projection)}`;

export interface PartitionProgress {
  partition: number;
  committed: bigint;
  end: bigint;
  lag: bigint;
}

export async function projectionProgress(
  admin: LogAdmin,
  config: Config,
  projection: Pick<Projection, 'name' | 'version'>,
): Promise<PartitionProgress[]> {
  const topic = writeSideTopics(config).events;
  const ends = await admin.offsets(topic);
  const committed = await admin.committedOffsets(projectionGroup(config, projection), topic);
  return ends.map(({ partition, end }) => {
    const done = committed.get(partition) ?? 0n;
    return { partition, committed: done, end, lag: end > done ? end - done : 0n };
  });
}

export const totalLag = (progress: readonly PartitionProgress[]) => progress.reduce((sum, entry) => sum + entry.lag, 0n);
