/**
 * A query service process: the HTTP read API and the gRPC QueryService over the
 * queries an app declares, with one Redis connection, one Elasticsearch client and
 * a circuit breaker for each. Stateless: any number can run side by side.
 */
import { createAccessControl } from '../shared/auth/access-control.js';
import { rateLimitOf } from '../shared/rate-limit.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl, type Config } from '../shared/config.js';
import { createElasticsearch } from '../shared/elasticsearch-client.js';
import type { Logger } from '../shared/logger.js';
import { createRedis } from '../shared/redis-client.js';
import { createBackendBreaker } from '../shared/backend-breaker.js';
import { startGrpcQueryService } from './grpc-query-service.js';
import type { Query } from './query-definition.js';
import { createQueryRuntime } from './query-runtime.js';
import { buildQueryApp } from './query-app.js';

export interface QueryService {
  /** Where it listens, e.g. http://127.0.0.1:8081. */
  url: string;
  /** The QueryService's port (gRPC). */
  grpcPort: number;
  stop(): Promise<void>;
}

export async function startQueryService(options: {
  config: Config;
  logger: Logger;
  queries: readonly Query[];
  /** Names the read API in OpenAPI. */
  appName?: string;
  /** Override the configured ports (0: any free one), for tests and benchmarks. */
  port?: number;
  grpcPort?: number;
}): Promise<QueryService> {
  const { config, logger } = options;
  const { backendTimeoutMs, breakerResetMs } = config.readSide;
  // No offline queue: while Redis is unreachable a read fails at once (and counts
  // against the breaker) instead of waiting for a reconnection.
  const redis = createRedis(config, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'strata-query' });
  redis.on('error', () => undefined);
  const ready = new Promise<boolean>((resolve) => redis.once('ready', () => { resolve(true); }));
  if (!(await Promise.race([ready, sleep(5_000, false, { ref: false })]))) {
    logger.warn({ url: redactUrl(config.redis.url) }, 'Redis is not reachable yet; its reads answer 503 until it is');
  }
  // One attempt per call on each node (elasticsearch-client.ts): the breaker, not the client, decides when to try again.
  const elasticsearch = createElasticsearch(config, { maxRetries: 0, requestTimeoutMs: backendTimeoutMs });
  const breakers = {
    redis: createBackendBreaker({ backend: 'redis', timeoutMs: backendTimeoutMs, resetMs: breakerResetMs, logger }),
    elasticsearch: createBackendBreaker({ backend: 'elasticsearch', timeoutMs: backendTimeoutMs, resetMs: breakerResetMs, logger }),
  };
  const access = createAccessControl(config, logger);
  const undeclared = options.queries.filter((query) => query.access === undefined).map((query) => query.name);
  if (access.enabled && undeclared.length > 0) logger.warn({ queries: undeclared }, 'these queries declare no access rule: nobody may run them');
  const runtime = createQueryRuntime({ config, queries: options.queries, redis, elasticsearch, breakers, access });
  // Ready once the first searches are done, so that a user's first search does not time out.
  let warmedUp = false;
  const warming = runtime.warmUp().then(() => { warmedUp = true; });
  const title = `${options.appName ?? 'Strata'} read API`;
  const rateLimit = rateLimitOf(config);
  const app = await buildQueryApp({ runtime, access, logger, title, warmedUp: () => warmedUp, ...(rateLimit === undefined ? {} : { rateLimit }) });
  const host = config.network.bindHost;
  const url = await app.listen({ host, port: options.port ?? config.readSide.queryPort });
  const grpc = await startGrpcQueryService(runtime, access, { host, port: options.grpcPort ?? config.readSide.queryGrpcPort }, rateLimit);
  logger.info({ url, grpcPort: grpc.port, queries: options.queries.length }, 'query service listening');

  return {
    url,
    grpcPort: grpc.port,
    async stop() {
      await warming;
      await grpc.stop();
      await app.close();
      runtime.stop();
      breakers.redis.shutdown();
      breakers.elasticsearch.shutdown();
      redis.disconnect();
      rateLimit?.redis.disconnect();
      await elasticsearch.close();
    },
  };
}
