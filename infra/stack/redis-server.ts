/**
 * Redis from Debian's redis-server, on the stack's own port and folder (never the
 * system instance on 6379). Append-only file on, so read models survive a restart.
 *
 * Secured (STRATA_STACK_SECURITY=on): TLS only on the same port, with the stack's
 * server certificate, and one ACL user, the stack's, whose password the services read
 * from the stack folder; the default user is off. The ACL file holds the password's
 * SHA-256 only, and nothing secret is on the command line.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localStore, stackLogin, type Config } from '../../shared/config.js';
import { storePassword } from '../../shared/project-secret.js';
import { createRedis } from '../../shared/redis-client.js';
import { ensureStackCertificates } from './certificates.js';
import { ensureRedisServer } from './prerequisites.js';
import type { Reporter } from './reporter.js';
import type { ServerDefinition } from './server.js';

const local = (config: Config) => localStore(config.stack, 'redis', config.redis.port);

/** The arguments that make it take TLS connections that sign in as the stack's user. */
function securedArgs(config: Config, dataDir: string, reporter: Reporter): string[] {
  const files = ensureStackCertificates(config, reporter);
  const password = storePassword(local(config)) ?? '';
  const aclFile = join(dataDir, 'users.acl');
  const digest = createHash('sha256').update(password).digest('hex');
  writeFileSync(aclFile, `user default off\nuser ${stackLogin} on #${digest} ~* &* +@all\n`, { mode: 0o600 });
  return [
    '--port', '0',
    '--tls-port', String(config.redis.port),
    '--tls-cert-file', files.certificate,
    '--tls-key-file', files.key,
    '--tls-ca-cert-file', files.ca,
    '--tls-auth-clients', 'no',
    '--aclfile', aclFile,
  ];
}

export const redisServer: ServerDefinition = {
  name: 'redis',
  startTimeoutMs: 30_000,
  ports: (config) => [{ port: config.redis.port, variable: 'STRATA_REDIS_PORT' }],
  address: (config) => local(config).url,

  async prepare({ config, dataDir, reporter }) {
    const binary = await ensureRedisServer(reporter);
    return {
      command: binary,
      args: [
        ...(config.stack.security ? securedArgs(config, dataDir, reporter) : ['--port', String(config.redis.port)]),
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
      { redis: local(config) },
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
