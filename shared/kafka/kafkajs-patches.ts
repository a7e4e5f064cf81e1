/**
 * Changes to kafkajs (no longer maintained) that Strata makes where it creates its
 * clients (kafkajs-client.ts): each cost every process CPU or round trips for nothing.
 */
import { createRequire } from 'node:module';
import { retry } from '../retry.js';
import type { TopicPartition } from './log-client.js';

/**
 * Two timers of kafkajs (no longer maintained) that wake an idle process, on every broker
 * connection, for nothing; both were most of an idle process's CPU.
 * - Its request queue re-arms a timer after every response, and again each time it fires,
 *   even with no request waiting (scheduleCheckPendingRequests, with a negative delay,
 *   which Node runs after 1 ms): about a thousand wake-ups a second, forever. A queue with
 *   nothing pending needs no timer (a completed request checks the queue, and a request
 *   that has to wait arms one), so the loop is stopped there.
 * - It looks for requests past their timeout ten times a second; once a second is
 *   plenty for timeouts of seconds (a projector holds sixteen connections).
 */
interface InflightRequest {
  sentAt: number;
  requestTimeout: number;
  timeoutRequest(): void;
}
interface RequestQueue {
  pending: unknown[];
  inflight: Map<number, InflightRequest>;
  enforceRequestTimeout: boolean;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  scheduleCheckPendingRequests: (this: RequestQueue) => void;
  scheduleRequestTimeoutCheck: (this: RequestQueue) => void;
  isConnected(): boolean;
  destroy(): void;
}
const requestTimeoutCheckMs = 1000;

function quietIdleTimers(): void {
  const { prototype } = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue };
  const { scheduleCheckPendingRequests: schedule } = prototype;
  prototype.scheduleCheckPendingRequests = function scheduleWhenPending(this: RequestQueue) {
    if (this.pending.length > 0) schedule.call(this);
  };
  prototype.scheduleRequestTimeoutCheck = function checkRequestTimeouts(this: RequestQueue) {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(() => {
      const now = Date.now();
      for (const request of this.inflight.values()) if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
      if (!this.isConnected()) this.destroy();
    }, requestTimeoutCheckMs);
  };
}

/**
 * kafkajs asks a broker where a transaction's coordinator is before every transactional
 * request (add partitions, end the transaction, add consumed offsets): two or three more
 * round trips for every transaction, which were two in five of a command processor's
 * requests. The answer is kept for a second per client: a coordinator that moved answers
 * NOT_COORDINATOR, which kafkajs retries, and the next lookup after the second finds the
 * new one.
 */
interface CoordinatorMetadata {
  coordinator: { nodeId: number };
}
interface Cluster {
  findGroupCoordinatorMetadata: (this: Cluster, request: { groupId: string; coordinatorType?: number }) => Promise<CoordinatorMetadata>;
}
export const coordinatorCacheMs = 1000;
const knownCoordinators = new WeakMap<Cluster, Map<string, { metadata: Promise<CoordinatorMetadata>; until: number }>>();

function cacheCoordinators(): void {
  const { prototype } = createRequire(import.meta.url)('kafkajs/src/cluster/index.js') as { prototype: Cluster };
  const { findGroupCoordinatorMetadata: lookUp } = prototype;
  prototype.findGroupCoordinatorMetadata = function knownCoordinator(this: Cluster, request) {
    const known = knownCoordinators.get(this) ?? new Map<string, { metadata: Promise<CoordinatorMetadata>; until: number }>();
    knownCoordinators.set(this, known);
    const key = `${String(request.coordinatorType ?? 0)}:${request.groupId}`;
    const now = Date.now();
    const cached = known.get(key);
    if (cached !== undefined && cached.until > now) return cached.metadata;
    const metadata = lookUp.call(this, request);
    known.set(key, { metadata, until: now + coordinatorCacheMs });
    metadata.catch(() => {
      if (known.get(key)?.metadata === metadata) known.delete(key);
    });
    return metadata;
  };
}

/**
 * Two changes to how a transaction adds its partitions (AddPartitionsToTxn, each a
 * replicated write to Kafka's transaction log when it adds any):
 * - The first request of a transaction also adds the partitions it was begun with
 *   (`planTransaction`), so kafkajs's later request for one of them is answered here,
 *   with no round trip and no write: a command batch's events and outcomes took two.
 * - It may meet CONCURRENT_TRANSACTIONS while the coordinator still writes the previous
 *   transaction's markers. kafkajs retries the whole send for it, with a metadata refresh
 *   and a growing backoff; on a replicated cluster the coordinator's last write can wait
 *   for the broker's next request (Kafka 3.9 completes it after a request, not from the
 *   marker thread), so a quiet partition's next transaction waited tens of milliseconds.
 *   The request is asked again here, soon and without the refresh, as Java's producer
 *   does; each try is also that next request.
 */
interface TopicPartitions {
  topic: string;
  partitions: number[];
}
interface AddPartitionsRequest {
  transactionalId: string;
  topics: TopicPartitions[];
}
interface Broker {
  addPartitionsToTxn: (this: Broker, request: AddPartitionsRequest) => Promise<unknown>;
}
const concurrentTransactionRetry = { firstMs: 1, maxMs: 16, forMs: 5000 };

/** By transactional id, for the transaction under way: what it was begun with, and what the coordinator has. */
const transactionPartitions = new Map<string, { planned: TopicPartitions[]; added: Set<string> }>();
const partitionKey = (topic: string, partition: number) => `${topic}\u0000${String(partition)}`;

export function planTransaction(transactionalId: string, writes: readonly TopicPartition[]): void {
  const planned = [...new Set(writes.map(({ topic }) => topic))].map((topic) => ({
    topic,
    partitions: [...new Set(writes.filter((write) => write.topic === topic).map(({ partition }) => partition))],
  }));
  transactionPartitions.set(transactionalId, { planned, added: new Set() });
}

export function endTransaction(transactionalId: string): void {
  transactionPartitions.delete(transactionalId);
}

function withPlanned(asked: TopicPartitions[], planned: TopicPartitions[]): TopicPartitions[] {
  const merged = new Map(asked.map(({ topic, partitions }) => [topic, new Set(partitions)]));
  for (const { topic, partitions } of planned) merged.set(topic, new Set([...(merged.get(topic) ?? []), ...partitions]));
  return [...merged].map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
}

async function addWhenTheLastEnded(broker: Broker, add: Broker['addPartitionsToTxn'], request: AddPartitionsRequest): Promise<unknown> {
  const until = Date.now() + concurrentTransactionRetry.forMs;
  return retry(() => add.call(broker, request), {
    firstDelayMs: concurrentTransactionRetry.firstMs,
    maxDelayMs: concurrentTransactionRetry.maxMs,
    // Soon, each time: the try is what lets the coordinator finish (see above).
    jitter: false,
    retryable: (error) => (error as { type?: string }).type === 'CONCURRENT_TRANSACTIONS' && Date.now() + concurrentTransactionRetry.maxMs <= until,
  });
}

function addPlannedPartitions(): void {
  const { prototype } = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as { prototype: Broker };
  const { addPartitionsToTxn: add } = prototype;
  prototype.addPartitionsToTxn = async function addPlanned(this: Broker, request) {
    const plan = transactionPartitions.get(request.transactionalId);
    if (plan === undefined) return addWhenTheLastEnded(this, add, request);
    const asked = request.topics.flatMap(({ topic, partitions }) => partitions.map((partition) => partitionKey(topic, partition)));
    // kafkajs reads nothing of the answer.
    if (asked.every((key) => plan.added.has(key))) return {};
    const topics = withPlanned(request.topics, plan.planned);
    const answer = await addWhenTheLastEnded(this, add, { ...request, topics });
    for (const { topic, partitions } of topics) for (const partition of partitions) plan.added.add(partitionKey(topic, partition));
    plan.planned = [];
    return answer;
  };
}

let patched = false;
export function patchKafkajs(): void {
  if (patched) return;
  patched = true;
  quietIdleTimers();
  cacheCoordinators();
  addPlannedPartitions();
}
