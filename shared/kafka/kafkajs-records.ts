/** Records between Strata's form (log-client.ts) and kafkajs's. */
import type { KafkaMessage, Message } from 'kafkajs';
import type { LogRecord, OutgoingRecord } from './log-client.js';

export const toMessage = (record: OutgoingRecord): Message => ({
  key: record.key,
  value: record.value,
  ...(record.headers === undefined ? {} : { headers: record.headers }),
  ...(record.partition === undefined ? {} : { partition: record.partition }),
});

export const toRecord = (message: KafkaMessage): LogRecord => ({
  key: message.key,
  value: message.value,
  headers: message.headers ?? {},
  offset: BigInt(message.offset),
});
