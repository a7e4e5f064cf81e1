/**
 * Redis from Debian's redis-server, on the stack's own port and folder (never the
 * system instance on 6379). Append-only file on, so read models survive a restart.
 */
import { createRedis } from '../../shared/redis-client.js';
import { ensureRedisServer } from './prerequisites.js';
import type { ServerDefinition } from './server.js';

export const redisServer: ServerDefinition = {
  name: 'redis',
  startTimeoutMs: 30_000,
  ports: (config) => [{ port: config.redis.port, variable: 'STRATA_REDIS_PORT' }],
  address: (config) => `redis://127.0.0.1:${config.redis.port}`,

  async prepare({ config, dataDir, reporter }) {
    const binary = await ensureRedisServer(reporter);
    return {
      command: binary,
      args: [
        '--port', String(config.redis.port),
        '--bind', '127.0.0.1',
        '--dir', dataDir,
        '--daemonize', 'no',
        '--save', '',
        '--appendonly', 'yes',
        '--appendfsync', 'everysec',
        '--logfile', '',
      ],
      cwd: dataDir,
    };
  },

  async probe(config) {
    const redis = createRedis(
      { redis: { ...config.redis, url: `redis://127.0.0.1:${config.redis.port}` } },
      { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 },
    );
    // The failure surfaces through connect(); without a listener ioredis also prints it.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const info = await redis.info('server');
      return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    } finally {
      redis.disconnect();
    }
  },
};
