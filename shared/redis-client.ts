/**
 * The ioredis factory (ioredis 5: the OpenTelemetry instrumentation patches < 6 only).
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

export function createRedis(config: Pick<Config, 'redis'>, options: RedisOptions = {}): Redis {
  return new Redis(config.redis.url, { connectionName: 'strata', ...options });
}
