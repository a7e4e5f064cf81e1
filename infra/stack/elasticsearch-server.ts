/**
 * Elasticsearch 8.19 from the integ-test zip: single node, security off, disk
 * threshold off, heap bounded. It refuses to run as root, so a root stack runs it
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
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../../shared/errors.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import type { Config } from '../../shared/config.js';
import { ensureArtifacts } from './artifacts.js';
import { assertReadableBy, elasticsearchRunsAsOtherUser, elasticsearchUser, findJava } from './prerequisites.js';
import type { ServerDefinition } from './server.js';
import { claimSystemDataDir, systemDataDir } from './system-data.js';

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
    'xpack.security.enabled: false',
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
  address: (config) => `http://127.0.0.1:${config.elasticsearch.port}`,
  dataDir: (config) => (elasticsearchRunsAsOtherUser ? systemDataDir(config, 'elasticsearch') : undefined),

  async prepare({ config, dataDir, reporter }) {
    const java = findJava();
    const { elasticsearchHome } = await ensureArtifacts(config.stack.artifactsDir, ['elasticsearch'], reporter);
    if (elasticsearchRunsAsOtherUser) claimSystemDataDir(config, 'elasticsearch', dataDir, reporter);
    const confDir = join(dataDir, 'config');
    for (const dir of ['data', 'logs', 'tmp']) mkdirSync(join(dataDir, dir), { recursive: true });
    if (!existsSync(confDir)) cpSync(join(elasticsearchHome, 'config'), confDir, { recursive: true });
    writeFileSync(join(confDir, 'elasticsearch.yml'), elasticsearchYml(config, dataDir));

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
    const client = createElasticsearch(
      { elasticsearch: { ...config.elasticsearch, url: `http://127.0.0.1:${config.elasticsearch.port}` } },
      { maxRetries: 0, requestTimeoutMs: 3000 },
    );
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
