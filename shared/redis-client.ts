/**
 * The ioredis factory (ioredis 5: the OpenTelemetry instrumentation patches < 6 only).
 * TLS with a rediss:// URL (trusting STRATA_REDIS_CA when set); the user and password
 * from the settings, else from the URL.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { StoreAccess } from './config.js';
import { storePassword } from './project-secret.js';

export function createRedis(config: { redis: StoreAccess & { url: string } }, options: RedisOptions = {}): Redis {
  const { login, ca } = config.redis;
  // ioredis prefers the URL's credentials to its options: they leave the URL, and the settings win.
  const url = new URL(config.redis.url);
  const username = login ?? (decodeURIComponent(url.username) || undefined);
  const password = storePassword(config.redis) ?? (decodeURIComponent(url.password) || undefined);
  url.username = '';
  url.password = '';
  return new Redis(url.toString(), {
    connectionName: 'strata',
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(ca === undefined ? {} : { tls: { ca: readFileSync(ca) } }),
    ...options,
  });
}
