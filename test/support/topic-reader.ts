/**
 * Every committed record of a topic, from offset 0 to its current end: how tests
 * check what really is in the log rather than what a service answered.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import { readPartitionsToEnd } from '../../shared/partition-reader.js';

export async function readWholeTopic(kafka: Kafka, topic: string, options: { groupPrefix: string; partitions: number }): Promise<KafkaMessage[]> {
  const all: KafkaMessage[] = [];
  await readPartitionsToEnd({
    kafka,
    topic,
    partitions: Array.from({ length: options.partitions }, (_, partition) => ({ partition, from: 0n })),
    groupPrefix: options.groupPrefix,
    onMessages: (_, messages) => {
      all.push(...messages);
    },
  });
  return all;
}
