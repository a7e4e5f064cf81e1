/**
 * Kafka 3.9 in KRaft mode, one node acting as broker and controller, from the
 * Maven Central classpath. Internal topics have replication factor 1 and few
 * partitions so a cold start stays quick on two cores.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../shared/config.js';
import { StackError } from '../../shared/errors.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { createLogger } from '../../shared/logger.js';
import { packageFile } from '../../shared/package-files.js';
import { ensureArtifacts, readVersions } from './artifacts.js';
import { findJava } from './prerequisites.js';
import type { ServerDefinition } from './server.js';

const log4jConfig = packageFile('kafkaLogging');

function serverProperties(config: Config, logDir: string): string {
  const { port, controllerPort } = config.kafka;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=1',
    // One broker holds one copy: Kafka's internal topics (committed offsets, transaction
    // state) get replication factor 1 and min ISR 1, or the group and transaction
    // coordinators never become available; Strata's own topics get 1 by
    // STRATA_REPLICATION_FACTOR's default (docs/deployment.md).
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    // Strata creates its topics explicitly; a typo must not create a new one.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

export const kafkaServer: ServerDefinition = {
  name: 'kafka',
  artifact: 'kafka',
  startTimeoutMs: 120_000,
  ports: (config) => [
    { port: config.kafka.port, variable: 'STRATA_KAFKA_PORT' },
    { port: config.kafka.controllerPort, variable: 'STRATA_KAFKA_CONTROLLER_PORT' },
  ],
  address: (config) => `127.0.0.1:${config.kafka.port}`,

  async prepare({ config, dataDir, reporter }) {
    const java = findJava();
    const { kafkaLibs } = await ensureArtifacts(config.stack.artifactsDir, ['kafka'], reporter);
    const logDir = join(dataDir, 'log');
    const propertiesFile = join(dataDir, 'server.properties');
    mkdirSync(logDir, { recursive: true });
    // Rewritten on every start, so changed ports take effect.
    writeFileSync(propertiesFile, serverProperties(config, logDir));
    const classpath = join(kafkaLibs, '*');
    const logging = `-Dlog4j.configuration=file:${log4jConfig}`;
    if (!existsSync(join(logDir, 'meta.properties'))) {
      const clusterId = randomBytes(16).toString('base64url');
      // `=`: an id starting with '-' (one in 64) would otherwise be read as an option.
      const format = spawnSync(
        java.bin,
        [logging, '-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', propertiesFile],
        { encoding: 'utf8' },
      );
      if (format.status !== 0) {
        throw new StackError(`formatting Kafka's storage failed:\n${format.stdout}${format.stderr}`);
      }
    }
    const heap = config.kafka.heap;
    return {
      command: java.bin,
      args: [
        `-Xms${heap}`,
        `-Xmx${heap}`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        logging,
        '-cp',
        classpath,
        'kafka.Kafka',
        propertiesFile,
      ],
      cwd: dataDir,
    };
  },

  async probe(config) {
    const log = createLogClient(
      { kafka: { ...config.kafka, brokers: [`127.0.0.1:${config.kafka.port}`] }, topics: config.topics },
      {
        clientId: 'strata-stack',
        logger: createLogger({ logLevel: 'silent' }, 'stack'),
        retries: 0,
        connectionTimeoutMs: 1000,
      },
    );
    await log.withAdmin(async (admin) => {
      const cluster = await admin.describeCluster();
      if (cluster.brokers === 0 || cluster.controller === null) throw new Error('no controller yet');
    });
    return readVersions().kafka;
  },
};
