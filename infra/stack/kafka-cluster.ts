/**
 * A Kafka cluster of its own beside the project's stack: `brokers` nodes in a
 * temporary stack folder, on free ports. For the broker-loss fault test and the
 * benchmark that compares one broker with three in the same run; Strata's processes
 * reach it through the `STRATA_KAFKA_BROKERS` it gives.
 */
import { brokerPorts } from './kafka-server.js';
import { freePortRange } from './ports.js';
import type { Reporter } from './reporter.js';
import { startStackCluster, type StackCluster } from './stack-cluster.js';

export interface KafkaCluster extends StackCluster {
  /** Every node's address, for STRATA_KAFKA_BROKERS. */
  brokers: string;
}

export async function startKafkaCluster(brokers: number, reporter: Reporter): Promise<KafkaCluster> {
  // Node n listens on base + 2(n − 1) and its controller one above.
  const base = await freePortRange(2 * brokers);
  const cluster = await startStackCluster('kafka', brokers, { STRATA_KAFKA_PORT: String(base), STRATA_KAFKA_CONTROLLER_PORT: String(base + 1), STRATA_KAFKA_HEAP: '512m' }, reporter);
  return {
    ...cluster,
    brokers: Array.from({ length: brokers }, (_, index) => `127.0.0.1:${brokerPorts(cluster.stackConfig, index + 1).port}`).join(','),
  };
}
