/**
 * The rate limit of a service's API, when there is one: with authentication on and
 * STRATA_RATE_LIMIT_PER_MINUTE above 0, counted per principal and route (an HTTP route,
 * by @fastify/rate-limit; a gRPC method, by `countCall`) in Redis, so that every
 * instance of a service counts against the same limit. (With authentication off every
 * request is the same local developer: nothing to tell apart.)
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { TooManyRequestsError } from './errors.js';
import { createRedis } from './redis-client.js';

export interface RateLimit {
  perMinute: number;
  redis: Redis;
}

/** Where the counts are kept: the HTTP limiter's keys and the gRPC ones side by side. */
export const rateLimitNamespace = 'strata:rate-limit:';
const windowMs = 60_000;

// A fixed window of a minute from the first call, as @fastify/rate-limit's Redis store counts.
const countScript = `local c = redis.call('INCR', KEYS[1]) local t = redis.call('PTTL', KEYS[1]) if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end return {c, t}`;

/** Counts one call of `key` (principal and method); TooManyRequestsError beyond the limit. A Redis that does not answer lets calls through. */
export async function countCall(limit: RateLimit, key: string): Promise<void> {
  let counted: unknown;
  try {
    counted = await limit.redis.eval(countScript, 1, `${rateLimitNamespace}${key}`, windowMs);
  } catch {
    return;
  }
  const [calls = 0, ttlMs = windowMs] = counted as number[];
  if (calls > limit.perMinute) {
    const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
    throw new TooManyRequestsError(`more than ${String(limit.perMinute)} calls a minute of this method; retry in ${String(seconds)} s`, seconds);
  }
}

/** Whether a service's HTTP API limits its callers (and so uses Redis). */
export const rateLimited = ({ auth }: Pick<Config, 'auth'>): boolean => auth.enabled && auth.rateLimitPerMinute > 0;

export function rateLimitOf(config: Config): RateLimit | undefined {
  const { rateLimitPerMinute } = config.auth;
  if (!rateLimited(config)) return undefined;
  // Fails fast when Redis is away: the limiter then lets requests through rather than hold them.
  const redis = createRedis(config, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'strata-rate-limit' });
  redis.on('error', () => undefined);
  return { perMinute: rateLimitPerMinute, redis };
}
