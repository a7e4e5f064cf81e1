/**
 * LogClient.readToEnd on kafkajs: reads chosen partitions of a topic, read_committed,
 * from given offsets up to the end they had when the read began, then stops. The
 * command processors rebuild their state with it; tools that scan the log use it too.
 *
 * kafkajs has no manual assignment, so the read runs in a consumer group of its own
 * that exists only for it: an assigner hands the one member exactly the partitions
 * asked for (nothing else is fetched), a seek moves each to its start, and the group
 * is deleted afterwards. A fetch made before the seek took effect starts at the log's
 * start, before the read's: whatever it holds from the read's position on is the
 * log's content all the same, and nothing before the position is delivered twice.
 *
 * Where the read ends is kafkajs-read-ends.ts's: the high watermark when it began, once
 * no transaction before it is still undecided. Commit markers and aborted records take
 * offsets and are never delivered, so progress is the offset after the last record of each
 * fetch, markers included (`lastOffset()`, or END_BATCH_PROCESS for a fetch of
 * markers only), never the offset of the last message seen: a fetch that begins
 * right after a marker is not a gap.
 */
import { randomUUID } from 'node:crypto';
import { AssignerProtocol, type Kafka, type PartitionAssigner } from 'kafkajs';
import { toRecord } from './kafkajs-records.js';
import type { LogClient, LogRecord, ReadToEndOptions } from './log-client.js';
import { readEnds, stopReason } from './kafkajs-read-ends.js';

const defaultStallTimeoutMs = 30_000;
/** Long enough for the markers of a committed transaction, even from a busy coordinator. */
const defaultSettleTimeoutMs = 5_000;

/** Gives the group's only member exactly the partitions of the read. */
function assignOnly(topic: string, partitions: number[]): PartitionAssigner {
  const name = 'strata-partition-reader';
  return () => ({
    name,
    version: 1,
    protocol: ({ topics }) => ({ name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) }),
    assign: ({ members }) =>
      Promise.resolve(
        members.map((member, index) => ({
          memberId: member.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: index === 0 ? { [topic]: partitions } : {},
            userData: Buffer.alloc(0),
          }),
        })),
      ),
  });
}

/** The read's progress: where each partition stands, its stall timer, and its outcome. */
function progressOf(options: ReadToEndOptions, ends: ReadonlyMap<number, bigint>, positions: Map<number, bigint>) {
  const { topic } = options;
  let finish: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // A failure may come while the consumer is still connecting: it is awaited later.
  done.catch(() => undefined);
  const stallTimeoutMs = options.stallTimeoutMs ?? defaultStallTimeoutMs;
  const stalled = () => {
    const where = [...positions].map(([partition, position]) => `partition ${partition} at offset ${position} of ${ends.get(partition) ?? 0n}`);
    fail(new Error(`reading ${topic} made no progress for ${stallTimeoutMs} ms (${where.join(', ')})`));
  };
  let stallTimer = setTimeout(stalled, stallTimeoutMs);
  const advance = (partition: number, next: bigint) => {
    const position = positions.get(partition);
    if (position === undefined || next <= position) return;
    clearTimeout(stallTimer);
    stallTimer = setTimeout(stalled, stallTimeoutMs);
    const end = ends.get(partition) ?? 0n;
    options.onProgress?.({ partition, position: next < end ? next : end, end });
    if (next < end) {
      positions.set(partition, next);
      return;
    }
    positions.delete(partition);
    if (positions.size === 0) finish();
  };
  return { done, fail, advance, stop: () => { clearTimeout(stallTimer); } };
}

/** Reads `positions`' partitions up to their `ends` in a consumer group of its own. */
async function consume(kafka: Kafka, withAdmin: LogClient['withAdmin'], groupId: string, options: ReadToEndOptions, ends: ReadonlyMap<number, bigint>, positions: Map<number, bigint>): Promise<void> {
  const { topic, onRecords } = options;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: options.readUncommitted ?? false,
    partitionAssigners: [assignOnly(topic, [...positions.keys()])],
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    allowAutoTopicCreation: false,
  });
  const { done, fail, advance, stop } = progressOf(options, ends, positions);
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    // Fetches of markers or aborted records only: nothing to deliver, but offsets move on.
    if (payload.topic === topic && payload.batchSize === 0) advance(payload.partition, BigInt(payload.lastOffset) + 1n);
  });
  const onAbort = () => { fail(stopReason(topic, options.signal)); };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error);
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const starts = [...positions];
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const position = positions.get(batch.partition);
        if (position === undefined) return;
        const end = ends.get(batch.partition) ?? 0n;
        const records: LogRecord[] = [];
        for (const message of batch.messages) {
          const record = toRecord(message);
          if (record.offset >= position && record.offset < end) records.push(record);
        }
        if (records.length > 0) {
          try {
            await onRecords(batch.partition, records);
          } catch (error) {
            // The reader's own failure (a record it cannot take), not Kafka's: the read
            // fails with it now, rather than the consumer retrying the same batch for ever.
            positions.delete(batch.partition);
            fail(error instanceof Error ? error : new Error(String(error)));
            return;
          }
        }
        advance(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
    for (const [partition, from] of starts) consumer.seek({ topic, partition, offset: from.toString() });
    await done;
  } finally {
    stop();
    options.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect();
    // The group existed only for this read: nothing should find it later.
    await withAdmin((admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
}

/** Resolves to the offset each partition was read up to (its end). */
export async function readToEnd(kafka: Kafka, withAdmin: LogClient['withAdmin'], groupPrefix: string, options: ReadToEndOptions): Promise<Map<number, bigint>> {
  const { topic } = options;
  const ends = await readEnds(kafka, withAdmin, {
    topic,
    partitions: options.partitions,
    readUncommitted: options.readUncommitted ?? false,
    settleTimeoutMs: options.settleTimeoutMs ?? defaultSettleTimeoutMs,
    signal: options.signal,
  });
  // Per partition still being read: the next offset to read.
  const positions = new Map<number, bigint>();
  for (const { partition, from } of options.partitions) {
    const end = ends.get(partition);
    if (end === undefined) throw new Error(`${topic} has no partition ${partition}`);
    if (from < end) positions.set(partition, from);
  }
  if (positions.size > 0) await consume(kafka, withAdmin, `${groupPrefix}-${randomUUID()}`, options, ends, positions);
  return new Map(options.partitions.map(({ partition }) => [partition, ends.get(partition) ?? 0n]));
}
