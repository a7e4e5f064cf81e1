/**
 * The rate limit of a service's HTTP API, when there is one: with authentication on
 * and STRATA_RATE_LIMIT_PER_MINUTE above 0, counted per principal and route in Redis,
 * so that every instance of a service counts against the same limit. (With
 * authentication off every request is the same local developer: nothing to tell apart.)
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createRedis } from './redis-client.js';

/** Whether a service's HTTP API limits its callers (and so uses Redis). */
export const rateLimited = ({ auth }: Pick<Config, 'auth'>): boolean => auth.enabled && auth.rateLimitPerMinute > 0;

export function rateLimitOf(config: Config): { perMinute: number; redis: Redis } | undefined {
  const { rateLimitPerMinute } = config.auth;
  if (!rateLimited(config)) return undefined;
  // Fails fast when Redis is away: the limiter then lets requests through rather than hold them.
  const redis = createRedis(config, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'strata-rate-limit' });
  redis.on('error', () => undefined);
  return { perMinute: rateLimitPerMinute, redis };
}
