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
 * kafkajs (no longer maintained) re-arms a timer after every response, and again each
 * time it fires, even with no request waiting (requestQueue's
 * scheduleCheckPendingRequests, with a negative delay, which Node runs after 1 ms): a
 * timer loop of about a thousand wake-ups a second on every broker connection,
 * forever. It was most of every idle process's CPU. A queue with nothing pending needs
 * no timer (a completed request checks the queue, and a request that has to wait arms
 * one), so the loop is stopped there; with requests pending kafkajs's own logic runs.
 */
interface RequestQueue {
  pending: unknown[];
  scheduleCheckPendingRequests: (this: RequestQueue) => void;
}
let patched = false;
function stopIdleTimerLoop(): void {
  if (patched) return;
  patched = true;
  const { prototype } = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue };
  const { scheduleCheckPendingRequests: schedule } = prototype;
  prototype.scheduleCheckPendingRequests = function scheduleWhenPending(this: RequestQueue) {
    if (this.pending.length > 0) schedule.call(this);
  };
}

export function createKafka(config: Pick<Config, 'kafka'>, options: KafkaClientOptions): Kafka {
  const { logger } = options;
  stopIdleTimerLoop();
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

/**
 * How long the broker holds a fetch that finds nothing new. A fetch returns as soon
 * as a record is there (a committed one for read_committed: the commit marker wakes
 * it), so a long wait costs no latency, while a short one makes every idle consumer
 * ask the broker many times a second.
 */
export const fetchWaitMs = 500;

/**
 * What every long-lived group member (processor, projector, saga) shares: committed
 * records only, the configured session (how soon a dead member is replaced), no
 * topic created by accident, long polls.
 */
export const groupMemberOptions = (config: Pick<Config, 'kafka'>, groupId: string): ConsumerConfig => ({
  groupId,
  readUncommitted: false,
  sessionTimeout: config.kafka.sessionTimeoutMs,
  heartbeatInterval: Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 5)),
  maxWaitTimeInMs: fetchWaitMs,
  allowAutoTopicCreation: false,
});
