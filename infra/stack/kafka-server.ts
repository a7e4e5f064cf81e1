/**
 * Kafka 3.9 in KRaft mode from the Maven Central classpath: one node by default, or
 * a cluster of several (`strata infra up --brokers 3`). Each node is broker and
 * controller at once (combined mode): a three-node cluster is three processes, not
 * six, on a laptop's two cores, and losing one node leaves both a broker majority
 * and a controller quorum of two (docs/deployment.md). Node n listens on
 * STRATA_KAFKA_PORT + 2(n − 1) and its controller on STRATA_KAFKA_CONTROLLER_PORT +
 * 2(n − 1). Internal topics are replicated like Strata's own (STRATA_REPLICATION_FACTOR's
 * default) and have few partitions, so a cold start stays quick. A node's properties
 * and launch (prepareKafkaNode) take each node's host, so that the hosts test runs the
 * same nodes on hosts of their own.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackPaths, type Config } from '../../shared/config.js';
import { StackError } from '../../shared/errors.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { createLogger } from '../../shared/logger.js';
import { hostPort } from '../../shared/network-address.js';
import { packageFile } from '../../shared/package-files.js';
import { ensureArtifacts, readVersions } from './artifacts.js';
import { checkFormatting, listenerProperties, recordFormatting, scramArguments, writeNodeCertificates } from './kafka-security.js';
import { clusterSize } from './cluster-size.js';
import { findJava } from './prerequisites.js';
import type { Launch } from './process-control.js';
import type { Reporter } from './reporter.js';
import type { ServerDefinition, ServerName } from './server.js';

const log4jConfig = packageFile('kafkaLogging');

/** Where node `node` (1-based) of the local cluster listens. */
export function brokerPorts(config: Config, node: number): { port: number; controllerPort: number } {
  return { port: config.kafka.port + 2 * (node - 1), controllerPort: config.kafka.controllerPort + 2 * (node - 1) };
}

/** Every node of the local cluster is on this machine's loopback. */
const localHosts = (brokers: number): string[] => Array.from({ length: brokers }, () => '127.0.0.1');

/** Node `node`'s properties in a cluster whose node n listens on `hosts[n - 1]`. */
function serverProperties(config: Config, dataDir: string, node: number, hosts: readonly string[]): string {
  const { port, controllerPort } = brokerPorts(config, node);
  const host = hosts[node - 1] ?? '127.0.0.1';
  const voters = hosts.map((voterHost, index) => `${index + 1}@${hostPort(voterHost, brokerPorts(config, index + 1).controllerPort)}`);
  // As STRATA_REPLICATION_FACTOR's default: three copies where there are three brokers,
  // a write acknowledged by all but one of them.
  const replicas = Math.min(3, hosts.length);
  const minInSync = Math.max(1, replicas - 1);
  return [
    'process.roles=broker,controller',
    `node.id=${node}`,
    `controller.quorum.voters=${voters.join(',')}`,
    ...listenerProperties(config, dataDir, hostPort(host, port), hostPort(host, controllerPort)),
    `log.dirs=${join(dataDir, 'log')}`,
    'num.partitions=1',
    // Kafka's internal topics (committed offsets, transaction state) need as many brokers
    // as their replication factor, or the group and transaction coordinators never
    // become available.
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minInSync}`,
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minInSync}`,
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    // A node killed is noticed when its session with the controllers expires, and only then
    // are its partitions led elsewhere: 9 s by default, most of a write silence. 6 s still
    // rides out a GC pause on a busy laptop.
    'broker.heartbeat.interval.ms=1000',
    'broker.session.timeout.ms=6000',
    // Strata creates its topics explicitly; a typo must not create a new one.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

/** The file that records how many nodes the local cluster was formatted with. */
const brokersFile = (config: Config) => join(stackPaths(config).data, 'kafka', 'brokers');

/** The local Kafka cluster's size (cluster-size.ts): the nodes' quorum is written in their storage. */
export function localBrokerCount(config: Config, asked?: number): number {
  const made = existsSync(join(stackPaths(config).data, 'kafka', 'log', 'meta.properties'));
  return clusterSize({ file: brokersFile(config), made, server: 'Kafka', nodes: 'broker(s)', option: '--brokers' }, asked);
}

/** Node 1 is "kafka" (its folders as before clusters existed), node n "kafka-n". */
const nodeName = (node: number) => (node === 1 ? 'kafka' : `kafka-${node}`) as ServerName;

/** The local cluster's nodes, `brokers` of them. */
export function kafkaBrokers(brokers: number): ServerDefinition[] {
  return Array.from({ length: brokers }, (_, index) => kafkaBroker(index + 1, brokers));
}

/** The id every node of the local cluster is formatted with, made by the first to need it. */
function clusterId(config: Config): string {
  const file = join(stackPaths(config).data, 'kafka', 'cluster-id');
  if (!existsSync(file)) {
    mkdirSync(join(stackPaths(config).data, 'kafka'), { recursive: true });
    writeFileSync(file, randomBytes(16).toString('base64url'));
  }
  return readFileSync(file, 'utf8');
}

function formatStorage(config: Config, java: string, logging: string, classpath: string, propertiesFile: string): void {
  // `=`: an id starting with '-' (one in 64) would otherwise be read as an option.
  const format = spawnSync(
    java,
    [logging, '-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId(config)}`, '-c', propertiesFile, ...scramArguments(config)],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) {
    throw new StackError(`formatting Kafka's storage failed:\n${format.stdout}${format.stderr}`);
  }
}

/**
 * Writes node `node`'s properties into `dataDir` (node n listening on `hosts[n - 1]`),
 * formats its storage the first time, and says how to launch it. The local cluster's
 * nodes all run on loopback; the hosts test (test/integration/hosts-netns.test.ts)
 * launches each on a host of its own.
 */
export async function prepareKafkaNode(config: Config, dataDir: string, node: number, hosts: readonly string[], reporter: Reporter): Promise<Launch> {
  const java = findJava();
  const { kafkaLibs } = await ensureArtifacts(config.stack.artifactsDir, ['kafka'], reporter);
  const logDir = join(dataDir, 'log');
  const propertiesFile = join(dataDir, 'server.properties');
  mkdirSync(logDir, { recursive: true });
  // Rewritten on every start, so changed ports take effect.
  checkFormatting(config, dataDir);
  writeNodeCertificates(config, dataDir, reporter);
  writeFileSync(propertiesFile, serverProperties(config, dataDir, node, hosts));
  const classpath = join(kafkaLibs, '*');
  const logging = `-Dlog4j.configuration=file:${log4jConfig}`;
  if (!existsSync(join(logDir, 'meta.properties'))) {
    formatStorage(config, java.bin, logging, classpath, propertiesFile);
    recordFormatting(config, dataDir);
    if (node === 1) writeFileSync(brokersFile(config), String(hosts.length));
  }
  const heap = config.kafka.heap;
  return {
    command: java.bin,
    args: [`-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', logging, '-cp', classpath, 'kafka.Kafka', propertiesFile],
    cwd: dataDir,
  };
}

function kafkaBroker(node: number, brokers: number): ServerDefinition {
  return {
    name: nodeName(node),
    artifact: 'kafka',
    startTimeoutMs: 120_000,
    node,
    // Node n's ports follow from these two variables (see above).
    ports: (config) => {
      const { port, controllerPort } = brokerPorts(config, node);
      return [{ port, variable: 'STRATA_KAFKA_PORT' }, { port: controllerPort, variable: 'STRATA_KAFKA_CONTROLLER_PORT' }];
    },
    address: (config) => `127.0.0.1:${brokerPorts(config, node).port}`,

    prepare: ({ config, dataDir, reporter }) => prepareKafkaNode(config, dataDir, node, localHosts(brokers), reporter),

    async probe(config) {
      const log = createLogClient(
        { kafka: { ...config.kafka, brokers: [`127.0.0.1:${brokerPorts(config, node).port}`] }, topics: config.topics },
        { clientId: 'strata-stack', logger: createLogger({ logLevel: 'silent' }, 'stack'), retries: 0, connectionTimeoutMs: 1000 },
      );
      // Healthy once registered as a broker: a cluster's `up` returns with every node in it,
      // so that topics created next get all their replicas.
      await log.withAdmin(async (admin) => {
        const cluster = await admin.describeCluster();
        if (!cluster.brokers.includes(node) || cluster.controller === null) throw new Error('not registered yet');
      });
      return readVersions().kafka;
    },
  };
}
