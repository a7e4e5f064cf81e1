/**
 * Offsets committed for a group without joining it: generation -1 and no member id,
 * as Kafka's consumers outside any group keep their place. kafkajs's `admin.setOffsets`
 * joins the group and fetches before it commits, a rebalance per commit; a projector
 * commits each of its projections' progress once a second (projection-feed.ts).
 */
import type { Kafka } from 'kafkajs';
import type { GroupOffsetWriter, TopicOffset } from './log-client.js';
import { isolationLevels, privateCluster, type Broker } from './kafkajs-cluster.js';

/** OffsetCommit's "keep them as long as the broker's offsets.retention.minutes says". */
const brokerRetention = -1;

export async function groupOffsetWriter(kafka: Kafka): Promise<GroupOffsetWriter> {
  const cluster = privateCluster(kafka, isolationLevels.readCommitted);
  await cluster.connect();
  // A group's coordinator moves only with its broker: asked once, and again after a failure.
  const coordinators = new Map<string, Promise<Broker>>();
  const coordinatorOf = (groupId: string) => {
    let coordinator = coordinators.get(groupId);
    if (coordinator === undefined) {
      coordinator = cluster.findGroupCoordinator({ groupId });
      coordinators.set(groupId, coordinator);
    }
    return coordinator;
  };
  const topicsOf = (offsets: readonly TopicOffset[]) =>
    [...new Set(offsets.map(({ topic }) => topic))].map((topic) => ({
      topic,
      partitions: offsets.filter((offset) => offset.topic === topic).map(({ partition, offset }) => ({ partition, offset: offset.toString() })),
    }));
  return {
    async commit(groupId, offsets) {
      try {
        const coordinator = await coordinatorOf(groupId);
        await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', retentionTime: brokerRetention, topics: topicsOf(offsets) });
      } catch (error) {
        coordinators.delete(groupId);
        throw error;
      }
    },
    stop: () => cluster.disconnect(),
  };
}
