/**
 * Creates the topics a role needs at start. Several processes may start at once:
 * a topic another one created first is fine.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';

export async function createMissingTopics(admin: Admin, wanted: readonly ITopicConfig[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((topic) => !existing.has(topic.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
      return;
    } catch (error) {
      if (error instanceof Error && /already exists/i.test(error.message)) return;
      // A topic just created can be unknown to the broker's metadata a moment longer than
      // kafkajs waits for its leaders (it tolerates only LEADER_NOT_AVAILABLE): seen as
      // UNKNOWN_TOPIC_OR_PARTITION, which is retriable.
      if (attempt >= 10 || (error as { retriable?: unknown }).retriable !== true) throw error;
      await sleep(100 * attempt);
    }
  }
}

/** Runs `work` with a connected admin client, disconnecting afterwards. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}
