/**
 * The service roles `strata start` runs: what starts each, where one without an HTTP API
 * serves /metrics, and which scale to several processes on one host.
 */
import type { App } from '../app/define-app.js';
import type { Config } from '../shared/config.js';
import { createLogClient } from '../shared/kafka/kafkajs-client.js';
import { createLogger } from '../shared/logger.js';
import { serveMetrics } from '../shared/metrics.js';
import { startCommandProcessor } from '../write-side/command-processor/command-processor.js';
import { startGateway } from '../write-side/gateway/gateway.js';
import { startSagas } from '../write-side/saga/saga-service.js';
import type { Saga } from '../write-side/saga/process-manager.js';
import { startProjector } from '../projections/projector.js';
import type { Projection } from '../projections/projection.js';
import { startQueryService } from '../read-side/query-service.js';

export const roles = {
  gateway: startGateway,
  processor: startCommandProcessor,
  projector: startProjector,
  query: startQueryService,
  saga: startSagas,
} as const;
export type Role = keyof typeof roles;

/**
 * Roles that scale on one host: more instances are more processes of the same
 * group; instance i (from 0) listens on the configured ports + i.
 */
export const scalable: readonly Role[] = ['processor', 'projector', 'query', 'saga'];

/** Something started in this process, stopped when it shuts down. */
export interface Service {
  stop(): Promise<void>;
}

/** What of the app a role runs. */
export interface RoleInputs {
  app: App;
  /** The projections a projector projects (all of the app's, or those named). */
  projections: readonly Projection[];
  sagas: readonly Saga<unknown>[];
}

/** Where a role without an HTTP API of its own serves /metrics (the others serve it on theirs). */
const metricsPortOf = (config: Config, role: Role): number | undefined =>
  role === 'processor' ? config.metrics.processorPort : role === 'projector' ? config.metrics.projectorPort : role === 'saga' ? config.metrics.sagaPort : undefined;

/** Starts `role` in this process: the role, then its /metrics server if it needs one of its own. */
export async function startRole(config: Config, role: Role, { app, projections, sagas }: RoleInputs): Promise<Service[]> {
  const logger = createLogger(config, 'strata').child({ role });
  const log = createLogClient(config, { clientId: 'strata', logger });
  const service = await roles[role]({ log, config, domain: app.domain, events: app.domain.events, projections, queries: app.queries, appName: app.name, sagas, logger });
  const metricsPort = metricsPortOf(config, role);
  return metricsPort === undefined ? [service] : [service, await serveMetrics({ host: config.network.bindHost, port: metricsPort }, logger)];
}
