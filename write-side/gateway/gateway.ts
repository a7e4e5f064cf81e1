/**
 * A gateway process: the HTTP write API and the gRPC CommandService over one
 * command intake, which hands each command straight to its partition's owner
 * (owner-client.ts) or, when that is not possible, produces it to the commands topic
 * and waits for its outcome (outcome-listener.ts). Stateless: any number can run side by side.
 */
import { internalSecret, internalSigner } from '../../shared/auth/internal-credential.js';
import { createAccessControl } from '../../shared/auth/access-control.js';
import type { Config } from '../../shared/config.js';
import { rateLimitOf } from '../../shared/rate-limit.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import { encodeCommand, type CommandRecord } from '../command-record.js';
import type { Domain } from '../decider/domain.js';
import { statusStaleMs } from '../command-processor/partition-status.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { createCommandIntake } from './command-intake.js';
import { buildGatewayApp } from './gateway-app.js';
import { createPartitionReadiness } from './partition-readiness.js';
import { startGrpcCommandService } from './grpc-command-service.js';
import { startOutcomeListener } from './outcome-listener.js';
import { createOwnerClient, directRoute } from './owner-client.js';
import { sendBatcher } from './send-batcher.js';

export interface Gateway {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The CommandService's port (gRPC). */
  grpcPort: number;
  stop(): Promise<void>;
}

export async function startGateway(options: {
  log: LogClient;
  config: Config;
  domain: Domain;
  logger: Logger;
  /** Names the write API in its OpenAPI document ("<appName> write API"). */
  appName?: string;
  /** Override the configured ports (0: any free one), for tests and benchmarks. */
  port?: number;
  grpcPort?: number;
}): Promise<Gateway> {
  const { log, config, domain, logger } = options;
  const access = createAccessControl(config, logger);
  const undeclared = domain.aggregates.flatMap((aggregate) => Object.keys(aggregate.commands).filter((type) => aggregate.access[type] === undefined));
  if (access.enabled && undeclared.length > 0) logger.warn({ commandTypes: undeclared }, 'these command types declare no access rule: nobody may send them');
  await ensureWriteSideTopics(log, config);
  // Keyed by stream key: an aggregate's commands go to its partition (partitionOfAggregate).
  const producer = await log.producer();
  const readiness = createPartitionReadiness(config.topics.partitions, statusStaleMs(config));
  const outcomes = await startOutcomeListener(log, config, readiness, logger);
  const topic = writeSideTopics(config).commands;
  let accepting = true;
  const produce = sendBatcher<{ command: CommandRecord; traceparent: string }>(async (items) => {
    const messages = items.map(({ command, traceparent }) => encodeCommand(command, traceparent));
    await producer.send(topic, messages);
    return items.map(() => undefined);
  });

  const owners = config.writeSide.commandRoute === 'direct' ? createOwnerClient(() => readiness.addresses(), internalSigner(internalSecret(config), 'strata-gateway')) : undefined;
  const intake = createCommandIntake({
    domain,
    commandTimeoutMs: config.writeSide.commandTimeoutMs,
    send: (command, traceparent) => produce({ command, traceparent }),
    ...(owners && { decide: directRoute(owners, readiness, outcomes, config.topics.partitions) }),
    outcomes,
    readiness,
    partitions: config.topics.partitions,
    access,
    logger,
  });
  const ready = () => {
    const unservedPartitions = readiness.unserved();
    return { ready: accepting && unservedPartitions.length === 0, unservedPartitions };
  };
  const rateLimit = rateLimitOf(config);
  const app = await buildGatewayApp({ intake, access, ready, logger, ...(options.appName === undefined ? {} : { appName: options.appName }), ...(rateLimit === undefined ? {} : { rateLimit }) });
  const host = config.network.bindHost;
  const url = await app.listen({ host, port: options.port ?? config.writeSide.gatewayPort });
  const grpc = await startGrpcCommandService(intake, access, { host, port: options.grpcPort ?? config.writeSide.gatewayGrpcPort }, rateLimit);
  logger.info({ url, grpcPort: grpc.port }, 'gateway listening');

  return {
    url,
    grpcPort: grpc.port,
    async stop() {
      accepting = false;
      await grpc.stop();
      await app.close();
      owners?.close();
      rateLimit?.redis.disconnect();
      await outcomes.stop();
      await producer.stop();
    },
  };
}
