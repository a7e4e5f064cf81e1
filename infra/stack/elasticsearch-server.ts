/**
 * Elasticsearch 8.19 from the integ-test zip: one node by default, or a cluster of
 * several (`strata infra up --es-nodes 2`), node n on STRATA_ELASTICSEARCH_PORT + (n − 1)
 * and STRATA_ELASTICSEARCH_TRANSPORT_PORT + (n − 1); disk threshold off, heap bounded;
 * security off, or (STRATA_STACK_SECURITY=on) on, with HTTPS on the stack's
 * server certificate and one user in the file realm, the stack's, whose password the
 * services read from the stack folder (the zip cannot hold API keys or native users:
 * their .security index needs analysis-common). It refuses to run as root, so a root stack runs it
 * as a dedicated system user that owns its data folder. That folder is then not in
 * the project but under /var/lib/strata (one per project and node): the system user must
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
import { localStore, stackLogin, stackPaths, type Config } from '../../shared/config.js';
import { storePassword } from '../../shared/project-secret.js';
import { ensureArtifacts } from './artifacts.js';
import { clusterSize } from './cluster-size.js';
import { ensureStackCertificates } from './certificates.js';
import { assertReadableBy, elasticsearchRunsAsOtherUser, elasticsearchUser, findJava } from './prerequisites.js';
import type { ServerDefinition, ServerName } from './server.js';
import type { Reporter } from './reporter.js';
import { claimSystemDataDir, systemDataDir } from './system-data.js';

/** Where node `node` (1-based) of the local cluster listens: HTTP, and transport (to the other nodes). */
function elasticsearchPorts(config: Config, node: number): { port: number; transportPort: number } {
  return { port: config.elasticsearch.port + node - 1, transportPort: config.elasticsearch.transportPort + node - 1 };
}

/** How the services reach node `node` of the local cluster. */
export const localElasticsearch = (config: Config, node = 1) => localStore(config.stack, 'elasticsearch', elasticsearchPorts(config, node).port);

/** Node 1 is "elasticsearch" (its folders as before clusters existed), node n "elasticsearch-n". */
const nodeName = (node: number) => (node === 1 ? 'elasticsearch' : `elasticsearch-${node}`) as ServerName;

/** Node `node`'s data and configuration: in the project's stack folder, or under /var/lib/strata when it runs as its own user. */
const nodeDataDir = (config: Config, node: number) =>
  elasticsearchRunsAsOtherUser ? systemDataDir(config, nodeName(node)) : join(stackPaths(config).data, nodeName(node));

/** The local cluster's size, written with node 1's data when it is first made; and a mark that the cluster has formed. */
const sizeFile = (config: Config) => join(nodeDataDir(config, 1), 'nodes');
const formedFile = (config: Config) => join(nodeDataDir(config, 1), 'formed');

/** The local Elasticsearch cluster's size (cluster-size.ts): the nodes' cluster state names its members. */
export function localElasticsearchCount(config: Config, asked?: number): number {
  const made = existsSync(join(nodeDataDir(config, 1), 'data', '_state'));
  return clusterSize({ file: sizeFile(config), made, server: 'Elasticsearch', nodes: 'node(s)', option: '--es-nodes' }, asked);
}

const securityOff = ['xpack.security.enabled: false'];

// One node's transport port stays plain: on loopback, it talks to no other. Nodes of a
// cluster talk over TLS, the node called presenting the stack's certificate (valid for
// 127.0.0.1), checked against the stack's CA; the caller presents none, as that
// certificate is for servers only (its extended key usage), so on the cluster's loopback
// any local process may call a transport port, as it may call Redis's.
const securityOn = (nodes: number) => [
  'xpack.security.enabled: true',
  'xpack.security.enrollment.enabled: false',
  'xpack.security.http.ssl.enabled: true',
  'xpack.security.http.ssl.key: certs/server.key',
  'xpack.security.http.ssl.certificate: certs/server.pem',
  ...(nodes === 1
    ? ['xpack.security.transport.ssl.enabled: false']
    : [
        'xpack.security.transport.ssl.enabled: true',
        'xpack.security.transport.ssl.key: certs/server.key',
        'xpack.security.transport.ssl.certificate: certs/server.pem',
        'xpack.security.transport.ssl.certificate_authorities: certs/ca.pem',
        'xpack.security.transport.ssl.verification_mode: certificate',
        'xpack.security.transport.ssl.client_authentication: none',
      ]),
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
  copyFileSync(files.ca, join(confDir, 'certs', 'ca.pem'));
  const salt = randomBytes(32);
  const hash = pbkdf2Sync(storePassword(localElasticsearch(config)) ?? '', salt, 10_000, 32, 'sha512');
  writeFileSync(join(confDir, 'users'), `${stackLogin}:{PBKDF2}10000$${salt.toString('base64')}$${hash.toString('base64')}\n`, { mode: 0o600 });
  writeFileSync(join(confDir, 'users_roles'), `strata_services:${stackLogin}\n`);
  writeFileSync(join(confDir, 'roles.yml'), rolesYml);
}

/**
 * How node `node` finds the others. One node: no discovery at all, as before clusters
 * existed. Several: every node's transport port as seed; and, until the cluster has
 * formed once, the names of all of them as the first voting configuration (Elasticsearch
 * warns at every start when that list is still set after).
 */
function discovery(config: Config, nodes: number): string[] {
  if (nodes === 1) return ['discovery.type: single-node'];
  const all = Array.from({ length: nodes }, (_, index) => index + 1);
  return [
    `discovery.seed_hosts: [${all.map((other) => `"127.0.0.1:${elasticsearchPorts(config, other).transportPort}"`).join(', ')}]`,
    ...(existsSync(formedFile(config)) ? [] : [`cluster.initial_master_nodes: [${all.map((other) => `strata-local-${other}`).join(', ')}]`]),
  ];
}

function elasticsearchYml(config: Config, dataDir: string, node: number, nodes: number): string {
  const { port, transportPort } = elasticsearchPorts(config, node);
  return [
    'cluster.name: strata-local',
    `node.name: strata-local-${node}`,
    'network.host: 127.0.0.1',
    `http.port: ${port}`,
    `transport.port: ${transportPort}`,
    ...discovery(config, nodes),
    `path.data: ${join(dataDir, 'data')}`,
    `path.logs: ${join(dataDir, 'logs')}`,
    ...(config.stack.security ? securityOn(nodes) : securityOff),
    'cluster.routing.allocation.disk.threshold_enabled: false',
    '',
  ].join('\n');
}

/** The local cluster's nodes, `nodes` of them. */
export function elasticsearchNodes(nodes: number): ServerDefinition[] {
  return Array.from({ length: nodes }, (_, index) => elasticsearchNode(index + 1, nodes));
}

function elasticsearchNode(node: number, nodes: number): ServerDefinition {
  return {
    name: nodeName(node),
    artifact: 'elasticsearch',
    startTimeoutMs: 180_000,
    ...(nodes === 1 ? {} : { node }),
    // Node n's ports follow from these two variables (see above).
    ports: (config) => {
      const { port, transportPort } = elasticsearchPorts(config, node);
      return [{ port, variable: 'STRATA_ELASTICSEARCH_PORT' }, { port: transportPort, variable: 'STRATA_ELASTICSEARCH_TRANSPORT_PORT' }];
    },
    address: (config) => localElasticsearch(config, node).url,
    dataDir: (config) => nodeDataDir(config, node),

    async prepare({ config, dataDir, reporter }) {
      const java = findJava();
      const { elasticsearchHome } = await ensureArtifacts(config.stack.artifactsDir, ['elasticsearch'], reporter);
      if (elasticsearchRunsAsOtherUser) claimSystemDataDir(config, nodeName(node), dataDir, reporter);
      if (node === 1 && nodes > 1 && !existsSync(sizeFile(config))) writeFileSync(sizeFile(config), String(nodes));
      const confDir = join(dataDir, 'config');
      for (const dir of ['data', 'logs', 'tmp']) mkdirSync(join(dataDir, dir), { recursive: true });
      if (!existsSync(confDir)) cpSync(join(elasticsearchHome, 'config'), confDir, { recursive: true });
      writeFileSync(join(confDir, 'elasticsearch.yml'), elasticsearchYml(config, dataDir, node, nodes));
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

    // A yellow health needs an elected master: the cluster has formed.
    async probe(config) {
      const client = createElasticsearch({ elasticsearch: localElasticsearch(config, node) }, { maxRetries: 0, requestTimeoutMs: 3000 });
      try {
        const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '1s' });
        if (health.timed_out) throw new Error(`cluster health is ${health.status}`);
        const info = await client.nodes.info({ node_id: '_local', metric: '_none' });
        return Object.values(info.nodes)[0]?.version ?? 'unknown';
      } finally {
        await client.close();
      }
    },

    // Healthy means a master was elected: the first voting configuration is no longer needed.
    configure(config) {
      if (nodes > 1 && !existsSync(formedFile(config))) writeFileSync(formedFile(config), '');
      return Promise.resolve();
    },
  };
}
