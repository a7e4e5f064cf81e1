/** What the owner of a partition works with: its clients, settings and the app's domain. */
import type { Config } from '../../shared/config.js';
import type { ConsistencyTokens } from '../../shared/consistency-token.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import type { Domain } from '../decider/domain.js';
import type { StatusPublisher } from './status-publisher.js';

export interface OwnerContext {
  log: LogClient;
  config: Config;
  domain: Domain;
  logger: Logger;
  status: StatusPublisher;
  /** Signs the consistency tokens of the outcomes. */
  tokens: ConsistencyTokens;
  /** Abandons the rebuild (the partition was taken away meanwhile). */
  signal: AbortSignal;
}
