/**
 * Where a bounded read (kafkajs-partition-reader.ts) ends on each partition.
 *
 * Not at the last stable offset it finds when it begins: a transaction's commit returns
 * once its coordinator has logged the decision, and the commit markers reach the
 * partitions a few to tens of milliseconds later. Until a partition has its marker, its
 * last stable offset stays before the transaction's records, and a read ending there
 * missed records committed before it began (up to one read in four begun right after a
 * commit; nine in ten when each marker starts a segment). So the end is the high
 * watermark when the read begins (everything written by then), once the last stable
 * offset has reached it: the read waits until every transaction with records before it
 * is decided.
 *
 * A transaction still open when the read begins holds the last stable offset back until
 * it ends: a live producer's ends in moments; a dead one's only when a new producer with
 * its transactional id fences it or the broker aborts it after its timeout. The wait is
 * bounded (`settleTimeoutMs`); then the read ends at the last stable offset, which is all
 * a read_committed reader can read yet, and says so in the log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { isolationLevels, partitionsOf, privateCluster } from './kafkajs-cluster.js';
import { retryRetriable } from './kafkajs-retriable.js';
import type { LogAdmin, LogClient, PartitionStart } from './log-client.js';

/** Each partition's high watermark: every record written (committed, aborted or open) and marker. */
async function highWatermarks(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const cluster = privateCluster(kafka, isolationLevels.readUncommitted);
  await cluster.connect();
  try {
    await retryRetriable(() => cluster.addTargetTopic(topic), 5, () => cluster.refreshMetadata());
    // A leader that moved or a topic just created.
    return await retryRetriable(async () => {
      await cluster.refreshMetadataIfNecessary();
      const [answer] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions: partitionsOf(cluster, topic) }]);
      return new Map((answer?.partitions ?? []).map(({ partition, offset }) => [partition, BigInt(offset)]));
    }, 5, () => cluster.refreshMetadata());
  } finally {
    await cluster.disconnect();
  }
}

/** What the read's `signal` fails it with. */
export function stopReason(topic: string, signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error(`reading ${topic} was stopped`);
}

export interface ReadEndsOptions {
  topic: string;
  partitions: readonly PartitionStart[];
  readUncommitted: boolean;
  settleTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** The ends once the last stable offsets reached `written`, or at them when `settleTimeoutMs` passed first. */
async function settled(kafka: Kafka, admin: LogAdmin, written: ReadonlyMap<number, bigint>, options: ReadEndsOptions): Promise<Map<number, bigint>> {
  const { topic, signal } = options;
  const deadline = Date.now() + options.settleTimeoutMs;
  // Markers come within milliseconds: asked again soon, then less often.
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    const stable = new Map((await admin.offsets(topic)).map(({ partition, end }) => [partition, end]));
    const ends = new Map([...written].map(([partition, high]) => {
      const lso = stable.get(partition) ?? 0n;
      return [partition, lso < high ? lso : high];
    }));
    const unsettled = options.partitions.filter(({ partition, from }) => {
      const high = written.get(partition) ?? 0n;
      return from < high && (ends.get(partition) ?? 0n) < high;
    });
    if (unsettled.length === 0) return ends;
    if (Date.now() >= deadline) {
      const where = unsettled.map(({ partition }) => `partition ${partition}: ${ends.get(partition) ?? 0n} of ${written.get(partition) ?? 0n}`);
      kafka.logger().warn(`reading ${topic}: a transaction still open after ${options.settleTimeoutMs} ms holds the last stable offset back; the read ends there (${where.join(', ')})`);
      return ends;
    }
    await sleep(pause);
    if (signal?.aborted) throw stopReason(topic, signal);
  }
}

/** Each partition's end for a read that begins now (see above); every partition of the topic has one. */
export async function readEnds(kafka: Kafka, withAdmin: LogClient['withAdmin'], options: ReadEndsOptions): Promise<Map<number, bigint>> {
  const written = highWatermarks(kafka, options.topic);
  // Records of open and aborted transactions are delivered too: nothing to wait for.
  if (options.readUncommitted) return written;
  // Asked while the admin connects; a failure to connect leaves it unawaited.
  written.catch(() => undefined);
  return withAdmin(async (admin) => settled(kafka, admin, await written, options));
}
