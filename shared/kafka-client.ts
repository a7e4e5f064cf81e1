/**
 * The kafkajs factory. kafkajs logs through pino, so its lines carry the same
 * fields as the rest of the process.
 */
import { createRequire } from 'node:module';
import { Kafka, logLevel as KafkaLogLevel, type ConsumerConfig, type LogEntry } from 'kafkajs';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

const toPinoLevel: Record<KafkaLogLevel, 'error' | 'warn' | 'info' | 'debug' | undefined> = {
  [KafkaLogLevel.NOTHING]: undefined,
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  // kafkajs's own info lines (every group join, start and stop, also of the short-lived
  // readers) are detail for whoever debugs it; Strata logs the events that matter itself.
  [KafkaLogLevel.INFO]: 'debug',
  [KafkaLogLevel.DEBUG]: 'debug',
};

export interface KafkaClientOptions {
  clientId: string;
  logger: Logger;
  /** How many times a request is retried before it fails; kafkajs's own default when unset. */
  retries?: number;
  connectionTimeoutMs?: number;
}

/**
 * kafkajs logs at error level every broker response that carries an error and every
 * retry, also those it retries and gets past (a group coordinator still loading
 * while a broker starts): expected, so detail. A request that finally fails is
 * thrown to Strata's code, which reports it.
 */
function expectedRetry(level: KafkaLogLevel, message: string, fields: Record<string, unknown>): boolean {
  return level === KafkaLogLevel.ERROR && (message.startsWith('Response ') || 'retryCount' in fields);
}

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

let patched = false;
function patchKafkajs(): void {
  if (patched) return;
  patched = true;
  quietIdleTimers();
  cacheCoordinators();
}

export function createKafka(config: Pick<Config, 'kafka'>, options: KafkaClientOptions): Kafka {
  const { logger } = options;
  patchKafkajs();
  return new Kafka({
    clientId: options.clientId,
    brokers: config.kafka.brokers,
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

/** How often a group member tells the coordinator it is alive: a fifth of its session. */
const heartbeatIntervalMs = (config: Pick<Config, 'kafka'>) => Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 5));

/**
 * How long the broker holds a fetch that finds nothing new. A fetch returns as soon
 * as a record is there (a committed one for read_committed: the commit marker wakes
 * it), so a long wait costs no latency, while a short one makes every idle consumer
 * ask the broker many times a second. kafkajs heartbeats between fetches, so a member
 * learns of a rebalance at its first heartbeat after a fetch: a wait as long as the
 * heartbeat interval delays that by no more than the interval already does.
 */
export const fetchWaitMs = (config: Pick<Config, 'kafka'>) => heartbeatIntervalMs(config);

export const groupMemberOptions = (config: Pick<Config, 'kafka'>, groupId: string): ConsumerConfig => ({
  groupId,
  readUncommitted: false,
  sessionTimeout: config.kafka.sessionTimeoutMs,
  heartbeatInterval: heartbeatIntervalMs(config),
  maxWaitTimeInMs: fetchWaitMs(config),
  allowAutoTopicCreation: false,
});
