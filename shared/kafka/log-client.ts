/**
 * Strata's own interface to Kafka: everything the platform does with the log, in
 * its terms (offsets are bigints, records are Buffers). One adapter implements it
 * (kafkajs-client.ts); nothing else in the platform imports a Kafka client, so the
 * client can be replaced in one place. docs/kafka-client.md says what each method
 * promises and why it has the shape it has.
 */

/** Headers as Kafka carries them: a name may repeat, so a value may be a list. */
export type RecordHeaders = Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;

/** A record read from a topic. */
export interface LogRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  offset: bigint;
}

/** A record to write. Without a partition, the key decides it (partitioner.ts). */
export interface OutgoingRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

export interface TopicRecords {
  topic: string;
  records: readonly OutgoingRecord[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicOffset extends TopicPartition {
  offset: bigint;
}

/** A fetch of one partition handed to a consumer. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  records: readonly LogRecord[];
  /**
   * The offset after everything the fetch covered: transaction markers and aborted
   * records take offsets and are never delivered, so this is where reading goes on,
   * never the last record's offset plus one.
   */
  next: bigint;
  /** The partition's end when it was fetched. */
  highWatermark: bigint;
}

/** What a group consumer's batch handler may do with its batch. */
export interface BatchContext {
  /** False once the partition was taken from this member (a rebalance) or the consumer stops. */
  isCurrent(): boolean;
  /** Tells the group this member is alive, during long work on a batch. */
  heartbeat(): Promise<void>;
  /**
   * The partition's next fetch starts at `next`. A handler that returns without
   * advancing gets the same records again.
   */
  advance(next: bigint): void;
}

export interface GroupConsumerOptions {
  groupId: string;
  /** `fromBeginning`: where a partition the group never committed starts (else at the end). */
  topics: readonly { topic: string; fromBeginning: boolean }[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How long the broker holds a fetch that finds nothing. */
  maxWaitMs: number;
  /**
   * A batch that reached its partition's end is handed over only after this long: what
   * is written meanwhile comes with the next fetch, so a steady stream is read in fewer,
   * larger batches. A reader catching up is never held.
   */
  gatherMs?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** Partitions whose batches are handled at the same time (1: one at a time). */
  partitionsConcurrently?: number;
  /** The member's partitions after each rebalance, by topic, before any batch of them. */
  onAssigned?: (assignment: ReadonlyMap<string, readonly number[]>) => void;
  onBatch: (batch: ConsumedBatch, context: BatchContext) => Promise<void>;
  /**
   * A fetch that held only transaction markers or aborted records: nothing to handle,
   * but the partition's position moved on to `next` (a caught-up reader has no lag).
   */
  onSkipped?: (topic: string, partition: number, next: bigint) => void;
}

/**
 * A member of a consumer group, read_committed: records of aborted or open
 * transactions are never delivered. Offsets are committed only by `commit` (or with a
 * transaction, `LogTransaction.commitConsumed`).
 */
export interface GroupConsumer {
  /** Joins the group and starts fetching; resolves once the member has its first assignment. */
  start(): Promise<void>;
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  /** The partition's next fetch starts at `offset`. */
  seek(topic: string, partition: number, offset: bigint): void;
  commit(offsets: readonly TopicOffset[]): Promise<void>;
  /** Leaves the group; a batch in hand is let finish. */
  stop(): Promise<void>;
}

export interface PartitionStart {
  partition: number;
  /** First offset to read. */
  from: bigint;
}

/** Where a read stands on one partition: the next offset to read and the end it reads to. */
export interface ReadProgress {
  partition: number;
  position: bigint;
  end: bigint;
}

export interface ReadToEndOptions {
  topic: string;
  partitions: readonly PartitionStart[];
  /** Takes each fetch's records in order; what it throws fails the read at once. */
  onRecords: (partition: number, records: readonly LogRecord[]) => void | Promise<void>;
  /** Called after each fetch with the partition's new position. */
  onProgress?: (progress: ReadProgress) => void;
  /**
   * The read fails when no fetch moved it for this long (the broker unreachable, a
   * partition that cannot be read). A long read that keeps moving never times out.
   */
  stallTimeoutMs?: number;
  /**
   * How long the read waits, before it starts, for transactions with records before the
   * end to be decided (5 s by default). A committed one's markers take milliseconds; one
   * still open past this holds back what follows it, and the read ends before it.
   */
  settleTimeoutMs?: number;
  /** Also deliver records of aborted and open transactions (for checks that they exist). */
  readUncommitted?: boolean;
  /** Stops the read, which then fails with the signal's reason. */
  signal?: AbortSignal;
}

export interface FollowOptions {
  /** Names the follower in the log's lines about it. */
  name: string;
  /**
   * Where each topic is read from: its beginning, its end when the follower starts,
   * or given offsets per partition (records before them are not delivered).
   */
  topics: readonly { topic: string; from: 'beginning' | 'end' | readonly PartitionStart[] }[];
  maxWaitMs: number;
  onBatch: (batch: ConsumedBatch) => void | Promise<void>;
}

/**
 * Reads topics in order for as long as it runs, in no consumer group at all: no
 * other process shares its partitions and nothing of it outlives it on the broker.
 */
export interface Follower {
  stop(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Replicas of each partition; the broker's default.replication.factor when unset. */
  replicationFactor?: number;
  config?: Readonly<Record<string, string>>;
}

/** Where a partition's copies are: the brokers holding it, and those of them caught up with its leader. */
export interface PartitionReplicas {
  partition: number;
  /** The node that leads it; -1 while none does (an election). */
  leader: number;
  replicas: number[];
  inSync: number[];
}

export interface TopicReplication {
  topic: string;
  /** In partition order. */
  partitions: PartitionReplicas[];
  /** Its min.insync.replicas: the in-sync replicas a write acknowledged by all (acks -1) needs. */
  minInSync: number;
}

export interface PartitionOffsets {
  partition: number;
  /** The first offset still in the log. */
  start: bigint;
  /** The end a read_committed reader reads to (the last stable offset). */
  end: bigint;
}

export interface LogAdmin {
  /** Creates those of `topics` that do not exist; one another process created meanwhile is fine. */
  createMissingTopics(topics: readonly TopicSpec[]): Promise<void>;
  listTopics(): Promise<string[]>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Of those of `topics` that exist (the others are left out), in no particular order. */
  replication(topics: readonly string[]): Promise<TopicReplication[]>;
  /** Per partition, in partition order. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** Per partition, in partition order: the first offset written at or after `time` (the end where none was). */
  offsetsAt(topic: string, time: Date): Promise<PartitionStart[]>;
  /** The group's committed offsets of `topic`, for the partitions it committed. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** Sets a group's committed offsets; refused while the group has members. */
  setCommittedOffsets(groupId: string, topic: string, offsets: readonly PartitionStart[]): Promise<void>;
  listGroups(): Promise<string[]>;
  /** The brokers the cluster has and its active controller (null while none is elected). */
  /** The brokers registered now (their node ids), and the active controller. */
  describeCluster(): Promise<{ brokers: number[]; controller: number | null }>;
  /** The group's members now, by the client id each connected with (none for a group that does not exist). */
  groupMembers(groupId: string): Promise<{ clientId: string }[]>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Idempotent: records land once and in the order sent, acknowledged by every in-sync replica. */
export interface LogProducer {
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One Kafka transaction. Its writes become visible to read_committed readers
 * together at commit, or never. A producer fenced by a newer one with the same
 * transactional id fails with ProducerFencedError (shared/errors.ts).
 */
export interface LogTransaction {
  /** Writes records (each naming its partition) and resolves to each one's offset, in order. */
  append(topic: string, records: readonly OutgoingRecord[]): Promise<bigint[]>;
  send(writes: readonly TopicRecords[]): Promise<void>;
  /** Commits a consumer group's offsets with the transaction (consume, then produce, exactly once). */
  commitConsumed(groupId: string, offsets: readonly TopicOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

export interface TransactionalProducer {
  /**
   * Claims the transactional id: any earlier producer with it is fenced, and its open
   * transaction is aborted. Called once, before the first transaction.
   */
  fence(): Promise<void>;
  /**
   * `writes`: partitions the transaction will surely write, registered with the
   * coordinator at its first write instead of one registration (a replicated write to
   * Kafka's transaction log) each.
   */
  begin(writes?: readonly TopicPartition[]): Promise<LogTransaction>;
  stop(): Promise<void>;
}

/**
 * Commits offsets of a group that has no members, as a consumer outside any group keeps
 * its place (Kafka's generation -1). Refused while the group has members.
 */
export interface GroupOffsetWriter {
  commit(groupId: string, offsets: readonly TopicOffset[]): Promise<void>;
  stop(): Promise<void>;
}

export interface TransactionalProducerOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
}

export interface LogClient {
  /** A connected admin; `stop` it when done (or use `withAdmin`). */
  admin(): Promise<LogAdmin>;
  withAdmin<T>(work: (admin: LogAdmin) => Promise<T>): Promise<T>;
  /** A connected idempotent producer. */
  producer(): Promise<LogProducer>;
  /** A connected transactional producer, not yet fenced. */
  transactionalProducer(options: TransactionalProducerOptions): Promise<TransactionalProducer>;
  /** Commits for groups nobody is a member of (a projector's projections: projection-feed.ts). */
  groupOffsetWriter(): Promise<GroupOffsetWriter>;
  /** A group member, not yet started: `start` it once its handlers can use it. */
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  /**
   * Reads chosen partitions, read_committed, from given offsets up to the end they had
   * when the read began (markers included), then stops; resolves to each partition's end.
   * Every record of a transaction committed before the read began is delivered, also one
   * whose commit markers the partitions do not have yet (the read waits for them).
   */
  readToEnd(options: ReadToEndOptions): Promise<Map<number, bigint>>;
  /** Resolves once the follower is positioned: every record written after it is delivered. */
  follow(options: FollowOptions): Promise<Follower>;
}
