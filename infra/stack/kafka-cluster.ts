/**
 * A Kafka cluster of its own beside the project's stack: `brokers` nodes in a
 * temporary stack folder, on free ports. For the broker-loss fault test and the
 * benchmark that compares one broker with three in the same run; Strata's processes
 * reach it through the `STRATA_KAFKA_BROKERS` it gives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../shared/config.js';
import { brokerPorts } from './kafka-server.js';
import { freePortRange } from './ports.js';
import type { Reporter } from './reporter.js';
import { down, selectServers, status, up, type ServerStatus } from './stack.js';

export interface KafkaCluster {
  /** The cluster's stack configuration (its folder and ports). */
  stackConfig: Config;
  /** Every node's address, for STRATA_KAFKA_BROKERS. */
  brokers: string;
  nodes(): Promise<ServerStatus[]>;
  /** Starts the nodes that are not running (one that was killed). */
  restart(): Promise<void>;
  /** Stops every node and deletes the cluster's folder. */
  remove(): Promise<void>;
}

export async function startKafkaCluster(brokers: number, reporter: Reporter): Promise<KafkaCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-kafka-cluster-'));
  // Node n listens on base + 2(n − 1) and its controller one above.
  const base = await freePortRange(2 * brokers);
  const stackConfig = loadConfig({ ...process.env, STRATA_STACK_DIR: dir, STRATA_KAFKA_PORT: String(base), STRATA_KAFKA_CONTROLLER_PORT: String(base + 1), STRATA_KAFKA_HEAP: '512m' });
  const nodes = () => selectServers(stackConfig, ['kafka'], brokers);
  try {
    await up(stackConfig, nodes(), reporter);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    stackConfig,
    brokers: Array.from({ length: brokers }, (_, index) => `127.0.0.1:${brokerPorts(stackConfig, index + 1).port}`).join(','),
    nodes: () => status(stackConfig, nodes()),
    restart: async () => { await up(stackConfig, nodes(), reporter); },
    async remove() {
      await down(stackConfig, nodes(), { purge: true }, reporter);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
