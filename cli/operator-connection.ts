/**
 * What the operator commands (projections, dlq, events, aggregate) connect with:
 * Kafka, after checking that the stack answers, so that a stopped stack is one
 * clear error instead of a minute of retries.
 */
import { pino } from 'pino';
import { redactUrl, type Config } from '../shared/config.js';
import { OperatorError } from '../shared/errors.js';
import { createLogClient } from '../shared/kafka/kafkajs-client.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import type { Logger } from '../shared/logger.js';
import { checkStoreAccess, kafkaLetsIn } from '../shared/store-access.js';

/** Warnings and errors only, on stderr: stdout is the command's output (a table, JSON). */
export const operatorLogger = (): Logger => pino({ name: 'strata', level: 'warn' }, pino.destination(2));

const unreachable = (what: string, where: string) =>
  new OperatorError(`cannot reach ${what} at ${where}`, 'failure', 'is the stack running? `strata infra status` shows it, `strata infra up` (or `npm start`) starts it');

export async function connectOperator(config: Config, clientId: string, needs: { redis: boolean }): Promise<{ log: LogClient; logger: Logger }> {
  const logger = operatorLogger();
  // A Kafka that refuses this process's credentials is a StoreAccessError, said as it is.
  if (!(await kafkaLetsIn(config))) throw unreachable('Kafka', config.kafka.brokers.join(','));
  // A Redis that refuses this process's credentials is a StoreAccessError, said as it is.
  if (needs.redis && (await checkStoreAccess(config, ['redis'])).length > 0) throw unreachable('Redis', redactUrl(config.redis.url));
  return { log: createLogClient(config, { clientId, logger: logger.child({}, { level: 'error' }) }), logger };
}
