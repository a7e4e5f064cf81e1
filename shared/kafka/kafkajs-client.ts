/**
 * The log client (log-client.ts) on kafkajs: the only module of the platform that
 * uses a Kafka client. kafkajs logs through pino, so its lines carry the same fields
 * as the rest of the process.
 */
// The default import too: Node's ES module import does not see every CommonJS export of kafkajs (ConfigResourceTypes).
import kafkajs, {
  Kafka,
  logLevel as KafkaLogLevel,
  type Admin,
  type ICustomPartitioner,
  type ITopicConfig,
  type KafkaConfig,
  type LogEntry,
  type Producer,
  type Transaction,
} from 'kafkajs';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, KafkaSecurity } from '../config.js';
import { ProducerFencedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { storePassword } from '../project-secret.js';
import { follow } from './kafkajs-follower.js';
import { groupOffsetWriter } from './kafkajs-group-offsets.js';
import { readToEnd } from './kafkajs-partition-reader.js';
import { endTransaction, patchKafkajs, planTransaction } from './kafkajs-patches.js';
import { toMessage, toRecord } from './kafkajs-records.js';
import { retryRetriable } from './kafkajs-retriable.js';
import type {
  ConsumedBatch,
  GroupConsumer,
  GroupConsumerOptions,
  LogAdmin,
  LogClient,
  LogProducer,
  LogTransaction,
  TopicOffset,
  TopicReplication,
  TopicSpec,
  TransactionalProducer,
  TransactionalProducerOptions,
} from './log-client.js';
import { partitionOfKey } from './partitioner.js';
import { chunkRecords } from './record-chunks.js';

export interface LogClientOptions {
  clientId: string;
  logger: Logger;
  /** How many times a request is retried before it fails; kafkajs's own default when unset. */
  retries?: number;
  connectionTimeoutMs?: number;
}

const toPinoLevel: Record<KafkaLogLevel, 'error' | 'warn' | 'info' | 'debug' | undefined> = {
  [KafkaLogLevel.NOTHING]: undefined,
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  // kafkajs's own info lines (every group join, start and stop, also of the short-lived
  // readers) are detail for whoever debugs it; Strata logs the events that matter itself.
  [KafkaLogLevel.INFO]: 'debug',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * kafkajs logs at error level every broker response that carries an error and every
 * retry, also those it retries and gets past (a group coordinator still loading
 * while a broker starts): expected, so detail. A request that finally fails is
 * thrown to Strata's code, which reports it.
 */
function expectedRetry(level: KafkaLogLevel, message: string, fields: Record<string, unknown>): boolean {
  return level === KafkaLogLevel.ERROR && (message.startsWith('Response ') || 'retryCount' in fields);
}

/** kafkajs's `ssl` and `sasl` options for the configured protocol. */
function connectionSecurity(security: KafkaSecurity): Partial<Pick<KafkaConfig, 'ssl' | 'sasl'>> {
  const { protocol, ca, certificate, key } = security;
  const tls = {
    ...(ca === undefined ? {} : { ca: [readFileSync(ca)] }),
    ...(certificate === undefined || key === undefined ? {} : { cert: readFileSync(certificate), key: readFileSync(key) }),
  };
  const ssl = protocol.endsWith('SSL') ? { ssl: tls } : {};
  if (!protocol.startsWith('SASL')) return ssl;
  const credentials = { username: security.login ?? '', password: storePassword(security) ?? '' };
  const sasl =
    security.mechanism === 'PLAIN' ? { mechanism: 'plain' as const, ...credentials }
    : security.mechanism === 'SCRAM-SHA-256' ? { mechanism: 'scram-sha-256' as const, ...credentials }
    : { mechanism: 'scram-sha-512' as const, ...credentials };
  return { ...ssl, sasl };
}

export function createKafkajs(config: Pick<Config, 'kafka'>, options: LogClientOptions): Kafka {
  const { logger } = options;
  patchKafkajs();
  return new Kafka({
    clientId: options.clientId,
    brokers: config.kafka.brokers,
    ...connectionSecurity(config.kafka.security),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    ...(options.retries === undefined ? {} : { retry: { retries: options.retries } }),
    logLevel: KafkaLogLevel.INFO,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...fields } = log;
        const method = expectedRetry(level, message, fields) ? 'debug' : toPinoLevel[level];
        if (method === undefined) return;
        logger[method]({ ...fields, component: 'kafkajs' }, message);
      },
  });
}

/** Strata's partitioner (partitioner.ts) for records that name no partition. */
const keyPartitioner: ICustomPartitioner = () => ({ partitionMetadata, message }) =>
  message.partition ?? (message.key === null || message.key === undefined ? 0 : partitionOfKey(message.key, partitionMetadata.length));

/** Records of several partitions of one topic, as kafkajs's sendOffsets and commitOffsets take them. */
function byTopic(offsets: readonly TopicOffset[]) {
  const topics = new Map<string, { partition: number; offset: string }[]>();
  for (const { topic, partition, offset } of offsets) topics.set(topic, [...(topics.get(topic) ?? []), { partition, offset: offset.toString() }]);
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

/** The errors a fenced transactional producer fails with. */
const fencingErrors = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);
/** PRODUCER_FENCED, which kafkajs 2.2.4 does not name. */
const producerFencedCode = 90;

/** A fencing error, possibly wrapped by kafkajs's retrier (it keeps the original as `cause`). */
function isFencing(error: unknown): boolean {
  for (let current = error as { type?: unknown; code?: unknown; cause?: unknown } | undefined; current; ) {
    if (typeof current.type === 'string' && fencingErrors.has(current.type)) return true;
    if (current.code === producerFencedCode) return true;
    current = current.cause as typeof current | undefined;
  }
  return false;
}

async function fenced<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isFencing(error) ? new ProducerFencedError(error) : error;
  }
}

function transactionOf(transaction: Transaction, transactionalId: string): LogTransaction {
  const ended = <T>(end: () => Promise<T>) => async () => {
    try {
      return await end();
    } finally {
      endTransaction(transactionalId);
    }
  };
  return {
    append: (topic, records) =>
      fenced(async () => {
        const offsets: bigint[] = [];
        for (const chunk of chunkRecords(records)) {
          const sent = await transaction.send({ topic, acks: -1, messages: chunk.map(toMessage) });
          // kafkajs answers with each partition's first offset; records keep their order within a partition.
          const next = new Map(sent.map(({ partition, baseOffset }) => [partition, BigInt(baseOffset ?? '-1')]));
          for (const { partition } of chunk) {
            if (partition === undefined) throw new Error('append takes records that name their partition');
            const offset = next.get(partition) ?? -1n;
            if (offset < 0n) throw new Error(`the broker returned no offset for ${topic} partition ${String(partition)}`);
            offsets.push(offset);
            next.set(partition, offset + 1n);
          }
        }
        return offsets;
      }),
    send: (writes) =>
      fenced(async () => {
        const chunked = writes.map(({ topic, records }) => ({ topic, chunks: chunkRecords(records) }));
        const rounds = Math.max(0, ...chunked.map(({ chunks }) => chunks.length));
        for (let index = 0; index < rounds; index++) {
          const topicMessages = chunked.flatMap(({ topic, chunks }) => {
            const chunk = chunks[index];
            return chunk === undefined ? [] : [{ topic, messages: chunk.map(toMessage) }];
          });
          await transaction.sendBatch({ acks: -1, topicMessages });
        }
      }),
    commitConsumed: (groupId, offsets) => fenced(() => transaction.sendOffsets({ consumerGroupId: groupId, topics: byTopic(offsets) })),
    commit: () => fenced(ended(() => transaction.commit())),
    abort: () => fenced(ended(() => transaction.abort())),
    isActive: () => transaction.isActive(),
  };
}

/** Creates the missing topics; several processes may start at once. */
async function createMissingTopics(admin: Admin, wanted: readonly ITopicConfig[]): Promise<void> {
  // A topic just created can be unknown to the broker's metadata a moment longer than
  // kafkajs waits for its leaders (it tolerates only LEADER_NOT_AVAILABLE): seen as
  // UNKNOWN_TOPIC_OR_PARTITION, which is retriable.
  await retryRetriable(async () => {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((topic) => !existing.has(topic.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
    } catch (error) {
      if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
    }
  }, 10);
}

const topicConfig = ({ topic, partitions, replicationFactor, config }: TopicSpec): ITopicConfig => ({
  topic,
  numPartitions: partitions,
  ...(replicationFactor === undefined ? {} : { replicationFactor }),
  configEntries: Object.entries(config ?? {}).map(([name, value]) => ({ name, value })),
});

/** Only topics that exist are asked about: the metadata and config requests fail on any other. */
async function replicationOf(admin: Admin, topics: readonly string[]): Promise<TopicReplication[]> {
  const existing = new Set(await admin.listTopics());
  const wanted = topics.filter((topic) => existing.has(topic));
  if (wanted.length === 0) return [];
  const [{ topics: metadata }, { resources }] = await Promise.all([
    admin.fetchTopicMetadata({ topics: wanted }),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: wanted.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
    }),
  ]);
  const minInSync = new Map(resources.map(({ resourceName, configEntries }) => [resourceName, Number(configEntries[0]?.configValue ?? '1')]));
  return metadata.map(({ name, partitions }) => ({
    topic: name,
    partitions: partitions
      .map(({ partitionId, leader, replicas, isr }) => ({ partition: partitionId, leader, replicas, inSync: isr }))
      .sort((a, b) => a.partition - b.partition),
    minInSync: minInSync.get(name) ?? 1,
  }));
}

/** Asks for `topic`'s metadata again: where a topic just made, or one whose leader moved, is led now. */
const refreshed = (admin: Admin, topic: string) => async () => {
  await admin.fetchTopicMetadata({ topics: [topic] });
};

function adminOf(admin: Admin): LogAdmin {
  return {
    createMissingTopics: (topics) => createMissingTopics(admin, topics.map(topicConfig)),
    listTopics: () => admin.listTopics(),
    async deleteTopics(topics) {
      await admin.deleteTopics({ topics: [...topics] });
    },
    // A topic just created is unknown a moment longer to the brokers that did not create
    // it, and its leaders may not be elected yet (here and below).
    async partitionCounts(topics) {
      const { topics: found } = await retryRetriable(() => admin.fetchTopicMetadata({ topics: [...topics] }), 10);
      return new Map(found.map(({ name, partitions }) => [name, partitions.length]));
    },
    replication: (topics) => retryRetriable(() => replicationOf(admin, topics), 10),
    async offsets(topic) {
      const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic), 10, refreshed(admin, topic));
      return offsets
        .map(({ partition, low, high }) => ({ partition, start: BigInt(low), end: BigInt(high) }))
        .sort((a, b) => a.partition - b.partition);
    },
    async offsetsAt(topic, time) {
      const offsets = await retryRetriable(() => admin.fetchTopicOffsetsByTimestamp(topic, time.getTime()), 10, refreshed(admin, topic));
      return offsets.map(({ partition, offset }) => ({ partition, from: BigInt(offset) })).sort((a, b) => a.partition - b.partition);
    },
    async committedOffsets(groupId, topic) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((committed?.partitions ?? []).filter(({ offset }) => BigInt(offset) >= 0n).map(({ partition, offset }) => [partition, BigInt(offset)]));
    },
    setCommittedOffsets: (groupId, topic, offsets) =>
      admin.setOffsets({ groupId, topic, partitions: offsets.map(({ partition, from }) => ({ partition, offset: from.toString() })) }),
    async listGroups() {
      return (await admin.listGroups()).groups.map(({ groupId }) => groupId);
    },
    async describeCluster() {
      const { brokers, controller } = await admin.describeCluster();
      return { brokers: brokers.map(({ nodeId }) => nodeId), controller };
    },
    async groupMembers(groupId) {
      const { groups } = await admin.describeGroups([groupId]);
      return (groups[0]?.members ?? []).map(({ clientId }) => ({ clientId }));
    },
    deleteGroups: async (groupIds) => {
      await admin.deleteGroups([...groupIds]);
    },
    stop: () => admin.disconnect(),
  };
}

const producerOf = (producer: Producer): LogProducer => ({
  async send(topic, records) {
    await producer.send({ topic, acks: -1, messages: records.map(toMessage) });
  },
  stop: () => producer.disconnect(),
});

function groupConsumerOf(kafka: Kafka, options: GroupConsumerOptions): GroupConsumer {
  const consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    maxWaitTimeInMs: options.maxWaitMs,
    allowAutoTopicCreation: false,
    ...(options.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: options.maxBytesPerPartition }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  });
  const { onAssigned, onSkipped } = options;
  if (onAssigned !== undefined) {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      onAssigned(new Map(Object.entries(payload.memberAssignment)));
    });
  }
  // kafkajs skips fetches that hold only transaction markers or aborted records without
  // calling eachBatch (and moves its position past them): reported here.
  if (onSkipped !== undefined) {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) onSkipped(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
    });
  }
  const only = (topic: string, partition: number) => [{ topic, partitions: [partition] }];
  return {
    async start() {
      await consumer.connect();
      for (const { topic, fromBeginning } of options.topics) await consumer.subscribe({ topic, fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
        eachBatch: async (payload) => {
          const { batch } = payload;
          const consumed: ConsumedBatch = {
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map(toRecord),
            next: BigInt(batch.lastOffset()) + 1n,
            highWatermark: BigInt(batch.highWatermark),
          };
          const gatherMs = options.gatherMs ?? 0;
          if (gatherMs > 0 && consumed.next >= consumed.highWatermark) await sleep(gatherMs);
          await options.onBatch(consumed, {
            isCurrent: () => payload.isRunning() && !payload.isStale(),
            heartbeat: () => payload.heartbeat(),
            advance: (next) => { payload.resolveOffset((next - 1n).toString()); },
          });
        },
      });
    },
    pause: (topic, partition) => { consumer.pause(only(topic, partition)); },
    resume: (topic, partition) => { consumer.resume(only(topic, partition)); },
    seek: (topic, partition, offset) => { consumer.seek({ topic, partition, offset: offset.toString() }); },
    commit: (offsets) => consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: offset.toString() }))),
    stop: () => consumer.disconnect(),
  };
}

/** `groupPrefix`: what the names of the client's own throwaway groups begin with (the topics' prefix). */
export function createLogClient(config: Pick<Config, 'kafka' | 'topics'>, options: LogClientOptions): LogClient {
  const kafka = createKafkajs(config, options);
  const groupPrefix = config.topics.prefix;
  const admin = async () => {
    const connected = kafka.admin();
    await connected.connect();
    return adminOf(connected);
  };
  const withAdmin: LogClient['withAdmin'] = async (work) => {
    const connected = await admin();
    try {
      return await work(connected);
    } finally {
      await connected.stop();
    }
  };
  return {
    admin,
    withAdmin,
    async producer() {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: keyPartitioner });
      await producer.connect();
      return producerOf(producer);
    },
    async transactionalProducer({ transactionalId, transactionTimeoutMs }: TransactionalProducerOptions): Promise<TransactionalProducer> {
      const producer = kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: transactionTimeoutMs,
        allowAutoTopicCreation: false,
        createPartitioner: keyPartitioner,
        // Retriable errors are retried until the broker answers (kafkajs's advice for
        // idempotent producers), soon at first: a partition waits for its transaction. Fencing
        // is never retriable; CONCURRENT_TRANSACTIONS is retried sooner still (kafkajs-patches.ts).
        retry: { initialRetryTime: 5, maxRetryTime: 500, retries: Number.MAX_SAFE_INTEGER },
      });
      await producer.connect();
      return {
        // kafkajs initialises the producer id (which fences) on the first transaction.
        fence: () => fenced(async () => { await (await producer.transaction()).abort(); }),
        begin: (writes = []) =>
          fenced(async () => {
            const transaction = await producer.transaction();
            planTransaction(transactionalId, writes);
            return transactionOf(transaction, transactionalId);
          }),
        stop: () => producer.disconnect(),
      };
    },
    groupOffsetWriter: () => groupOffsetWriter(kafka),
    groupConsumer: (consumerOptions) => groupConsumerOf(kafka, consumerOptions),
    readToEnd: (readOptions) => readToEnd(kafka, withAdmin, `${groupPrefix}.reader`, readOptions),
    follow: (followOptions) => follow(kafka, followOptions),
  };
}
