/**
 * Every committed record of a topic, from offset 0 to its current end: how tests
 * check what really is in the log rather than what a service answered.
 */
import type { LogClient, LogRecord } from '../../shared/kafka/log-client.js';

export async function readWholeTopic(log: LogClient, topic: string, options: { partitions: number }): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  await log.readToEnd({
    topic,
    partitions: Array.from({ length: options.partitions }, (_, partition) => ({ partition, from: 0n })),
    onRecords: (_, records) => {
      all.push(...records);
    },
  });
  return all;
}
