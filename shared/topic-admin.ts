/**
 * Creates the topics a role needs at start. Several processes may start at once:
 * a topic another one created first is fine.
 */
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';

export async function createMissingTopics(admin: Admin, wanted: readonly ITopicConfig[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((topic) => !existing.has(topic.topic));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (error) {
    if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
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
