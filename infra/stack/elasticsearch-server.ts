/**
 * Elasticsearch 8.19 from the integ-test zip: single node, disk threshold off, heap
 * bounded; security off, or (STRATA_STACK_SECURITY=on) on, with HTTPS on the stack's
 * server certificate and one user in the file realm, the stack's, whose password the
 * services read from the stack folder (the zip cannot hold API keys or native users:
 * their .security index needs analysis-common). It refuses to run as root, so a root stack runs it
 * as a dedicated system user that owns its data folder. That folder is then not in
 * the project but under /var/lib/strata (one per project): the system user must
 * reach it whatever the project's parent folders allow (root's home, a `mktemp -d`,
 * are closed to other users).
 *
 * The zip is minimal (no analysis-common, painless, reindex or rest-root): Strata
 * uses core analyzers, computes full documents in the projector, and checks
 * readiness with _cluster/health rather than GET /.
 */
import { spawnSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../../shared/errors.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { localStore, stackLogin, type Config } from '../../shared/config.js';
import { storePassword } from '../../shared/project-secret.js';
import { ensureArtifacts } from './artifacts.js';
import { ensureStackCertificates } from './certificates.js';
import { assertReadableBy, elasticsearchRunsAsOtherUser, elasticsearchUser, findJava } from './prerequisites.js';
import type { ServerDefinition } from './server.js';
import type { Reporter } from './reporter.js';
import { claimSystemDataDir, systemDataDir } from './system-data.js';

const local = (config: Config) => localStore(config.stack, 'elasticsearch', config.elasticsearch.port);

const securityOff = ['xpack.security.enabled: false'];

// The transport port stays plain: one node, on loopback, talks to no other.
const securityOn = [
  'xpack.security.enabled: true',
  'xpack.security.enrollment.enabled: false',
  'xpack.security.http.ssl.enabled: true',
  'xpack.security.http.ssl.key: certs/server.key',
  'xpack.security.http.ssl.certificate: certs/server.pem',
  'xpack.security.transport.ssl.enabled: false',
];

/** What the stack's user may do: every index, and the cluster's health (the stack's probe, the services' start check). */
const rolesYml = `strata_services:
  cluster: [monitor]
  indices:
    - names: ['*']
      privileges: [all]
`;

/**
 * The certificate (Elasticsearch reads TLS files from its own config folder only) and the
 * stack's user in the file realm, with its password hashed as Elasticsearch's PBKDF2:
 * `{PBKDF2}<iterations>$<salt>$<hash>`, HMAC-SHA512, 256 bits.
 */
function writeSecurity(config: Config, confDir: string, reporter: Reporter): void {
  const files = ensureStackCertificates(config, reporter);
  mkdirSync(join(confDir, 'certs'), { recursive: true });
  copyFileSync(files.certificate, join(confDir, 'certs', 'server.pem'));
  copyFileSync(files.key, join(confDir, 'certs', 'server.key'));
  const salt = randomBytes(32);
  const hash = pbkdf2Sync(storePassword(local(config)) ?? '', salt, 10_000, 32, 'sha512');
  writeFileSync(join(confDir, 'users'), `${stackLogin}:{PBKDF2}10000$${salt.toString('base64')}$${hash.toString('base64')}\n`, { mode: 0o600 });
  writeFileSync(join(confDir, 'users_roles'), `strata_services:${stackLogin}\n`);
  writeFileSync(join(confDir, 'roles.yml'), rolesYml);
}

function elasticsearchYml(config: Config, dataDir: string): string {
  return [
    'cluster.name: strata-local',
    'node.name: strata-local-1',
    'network.host: 127.0.0.1',
    `http.port: ${config.elasticsearch.port}`,
    `transport.port: ${config.elasticsearch.transportPort}`,
    'discovery.type: single-node',
    `path.data: ${join(dataDir, 'data')}`,
    `path.logs: ${join(dataDir, 'logs')}`,
    ...(config.stack.security ? securityOn : securityOff),
    'cluster.routing.allocation.disk.threshold_enabled: false',
    '',
  ].join('\n');
}

export const elasticsearchServer: ServerDefinition = {
  name: 'elasticsearch',
  artifact: 'elasticsearch',
  startTimeoutMs: 180_000,
  ports: (config) => [
    { port: config.elasticsearch.port, variable: 'STRATA_ELASTICSEARCH_PORT' },
    { port: config.elasticsearch.transportPort, variable: 'STRATA_ELASTICSEARCH_TRANSPORT_PORT' },
  ],
  address: (config) => local(config).url,
  dataDir: (config) => (elasticsearchRunsAsOtherUser ? systemDataDir(config, 'elasticsearch') : undefined),

  async prepare({ config, dataDir, reporter }) {
    const java = findJava();
    const { elasticsearchHome } = await ensureArtifacts(config.stack.artifactsDir, ['elasticsearch'], reporter);
    if (elasticsearchRunsAsOtherUser) claimSystemDataDir(config, 'elasticsearch', dataDir, reporter);
    const confDir = join(dataDir, 'config');
    for (const dir of ['data', 'logs', 'tmp']) mkdirSync(join(dataDir, dir), { recursive: true });
    if (!existsSync(confDir)) cpSync(join(elasticsearchHome, 'config'), confDir, { recursive: true });
    writeFileSync(join(confDir, 'elasticsearch.yml'), elasticsearchYml(config, dataDir));
    if (config.stack.security) writeSecurity(config, confDir, reporter);

    const user = elasticsearchUser(config.elasticsearch.user);
    if (user !== undefined) {
      const chown = spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dataDir], { encoding: 'utf8' });
      if (chown.status !== 0) throw new StackError(`chown of ${dataDir} failed: ${chown.stderr}`);
      assertReadableBy(user, join(elasticsearchHome, 'lib'));
      assertReadableBy(user, confDir);
    }
    const heap = config.elasticsearch.heap;
    return {
      command: join(elasticsearchHome, 'bin', 'elasticsearch'),
      args: [],
      // The JVM writes gc.log and heap dumps into its working directory.
      cwd: join(dataDir, 'logs'),
      env: {
        ES_PATH_CONF: confDir,
        ES_JAVA_HOME: java.home,
        ES_JAVA_OPTS: `-Xms${heap} -Xmx${heap}`,
        ES_TMPDIR: join(dataDir, 'tmp'),
      },
      ...(user === undefined ? {} : { user: { uid: user.uid, gid: user.gid } }),
    };
  },

  async probe(config) {
    const client = createElasticsearch({ elasticsearch: local(config) }, { maxRetries: 0, requestTimeoutMs: 3000 });
    try {
      const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '1s' });
      if (health.timed_out) throw new Error(`cluster health is ${health.status}`);
      const info = await client.nodes.info({ node_id: '_local', metric: '_none' });
      const node = Object.values(info.nodes)[0];
      return node?.version ?? 'unknown';
    } finally {
      await client.close();
    }
  },
};
