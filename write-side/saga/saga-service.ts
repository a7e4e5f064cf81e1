/**
 * A saga process: runs each saga it is given, all sending through one command
 * sender (one gRPC channel, one breaker).
 */
import { createServiceCredentials } from '../../shared/auth/service-credentials.js';
import type { Config } from '../../shared/config.js';
import type { EventCatalog } from '../../shared/event-schemas.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import { createCommandSender } from './command-sender.js';
import type { Saga } from './process-manager.js';
import { startSagaRuntime, type SagaRuntime } from './saga-runtime.js';

export async function startSagas(options: { log: LogClient; config: Config; logger: Logger; sagas: readonly Saga<unknown>[]; events: EventCatalog }): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = options;
  // Longer than the gateway's own wait for an outcome, after which it answers "pending".
  const credentials = createServiceCredentials(config, { id: config.saga.clientId, secret: config.saga.clientSecret });
  const sender = createCommandSender({ address: config.saga.commandService, timeoutMs: config.writeSide.commandTimeoutMs + 2_000, credentials, logger });
  const runtimes: SagaRuntime[] = [];
  for (const saga of options.sagas) runtimes.push(await startSagaRuntime({ log: options.log, config, logger, saga, sender, events: options.events }));
  return {
    async stop() {
      await Promise.all(runtimes.map((runtime) => runtime.stop()));
      sender.close();
    },
  };
}
