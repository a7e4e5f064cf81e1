/**
 * A Kafka broker lost under load (issue 28's fault test): a local cluster of three
 * brokers, Strata's topics replicated three times (STRATA_REPLICATION_FACTOR's
 * default there), two command processors, a gateway and a projector of the neutral
 * test domain (test/apps/counter-app.ts), and an open-loop load of Increment commands
 * at a fixed rate whose clients retry with the same Idempotency-Key until they have
 * an answer. The broker that leads the most events partitions is SIGKILLed, then
 * started again. Then an independent check: the committed log read back, and the
 * read models folded from it.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../shared/config.js';
import { decodeEvent, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import { createLogger } from '../../shared/logger.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { startProjector, type Projector } from '../../projections/projector.js';
import { startKafkaCluster, type KafkaCluster } from '../../infra/stack/kafka-cluster.js';
import counterApp from '../apps/counter-app.js';
import { ackClock, type AckClock } from './availability.js';
import { spawnProcessor, type ProcessorProcess } from '../../bench/processor-process.js';
import { uniqueName } from './test-context.js';

export interface BrokerLossOptions {
  /** Commands offered per second, whatever the answers. */
  rate: number;
  loadSeconds: number;
  /** Seconds into the load when the broker is killed, and started again. */
  killAt: number;
  restartAt: number;
  log: (line: string) => void;
}

export interface BrokerLossResult {
  acknowledged: Map<string, { aggregateId: string; version: number }>;
  offered: number;
  committed: EventEnvelope[];
  killedNode: number;
  /** Events partitions the killed node led. */
  ledPartitions: number;
  longestSilenceMs: number;
  /** From the kill to the start of the first second with ≥ 90 % of the offered rate acknowledged. */
  recoveryMs: number | undefined;
  /** Acknowledgements in each second of the load. */
  perSecond: number[];
  config: Config;
  projector: Projector;
  log: LogClient;
  /** Stops the projector and the cluster, and deletes the cluster's folder. */
  cleanUp(): Promise<void>;
}

const quiet = { step: () => undefined, detail: () => undefined };

/** Strata's settings against the cluster: a prefix of its own, no access control (auth.test.ts covers it). */
const clusterEnv = (cluster: KafkaCluster): NodeJS.ProcessEnv => ({
  ...process.env,
  STRATA_KAFKA_BROKERS: cluster.brokers,
  STRATA_TOPIC_PREFIX: uniqueName('broker-loss'),
  STRATA_AUTH: 'off',
  STRATA_LOG_LEVEL: 'warn',
});

/** The node that leads the most partitions of the events topic, and how many it leads. */
async function busiestLeader(log: LogClient, config: Config): Promise<{ node: number; led: number }> {
  const [events] = await log.withAdmin((admin) => admin.replication([writeSideTopics(config).events]));
  const counts = new Map<number, number>();
  for (const { leader } of events?.partitions ?? []) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  const [node = 1, led = 0] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
  return { node, led };
}

async function killNode(cluster: KafkaCluster, node: number): Promise<void> {
  const row = (await cluster.nodes()).find((candidate) => candidate.node === node);
  if (row?.pid == null) throw new Error(`kafka node ${node} is not running`);
  process.kill(row.pid, 'SIGKILL');
}

/** Connections to the gateway as a load balancer keeps them: a bounded pool, so a stall queues requests instead of opening thousands of sockets. */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function postIncrement(url: string, key: string, body: string): Promise<{ status: number; version?: number }> {
  return new Promise((resolve, reject) => {
    const target = new URL(`${url}/commands/Increment`);
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'idempotency-key': key };
    const req = request(target, { agent, method: 'POST', headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const answer = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { version?: number };
        resolve({ status: res.statusCode ?? 0, ...answer });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Posts until the command has its outcome (a real client's retry loop, same key); its 200 answer, if any. */
async function settle(url: string, key: string, body: unknown, deadline: number): Promise<{ version?: number } | undefined> {
  for (let pause = 100; Date.now() < deadline; pause = Math.min(pause * 2, 1000)) {
    try {
      const answer = await postIncrement(url, key, JSON.stringify(body));
      if (answer.status === 200) return answer;
      if (answer.status !== 202 && answer.status < 500) return undefined;
    } catch {
      // Timed out or cut: retried with the same key.
    }
    await sleep(pause);
  }
  return undefined;
}

async function readCommitted(log: LogClient, config: Config): Promise<EventEnvelope[]> {
  const committed: EventEnvelope[] = [];
  await log.readToEnd({
    topic: writeSideTopics(config).events,
    partitions: Array.from({ length: config.topics.partitions }, (_, partition) => ({ partition, from: 0n })),
    readUncommitted: false,
    onRecords: (_, records) => { for (const record of records) committed.push(decodeEvent(record)); },
  });
  return committed;
}

interface LoadRun {
  acknowledged: BrokerLossResult['acknowledged'];
  offered: number;
  startedAt: number;
}

/** Offers `rate` commands a second for `seconds` on `aggregates` counters; resolves once every one has settled. */
async function offerLoad(gateway: Gateway, prefix: string, options: BrokerLossOptions, acks: AckClock): Promise<LoadRun> {
  const acknowledged: LoadRun['acknowledged'] = new Map();
  const inFlight: Promise<void>[] = [];
  const startedAt = Date.now();
  const total = options.rate * options.loadSeconds;
  for (let n = 0; n < total; n++) {
    const due = startedAt + (n * 1000) / options.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const key = `${prefix}-${n}`;
    const aggregateId = `c-${n % 200}`;
    inFlight.push(settle(gateway.url, key, { aggregateId, data: { by: 1 } }, startedAt + options.loadSeconds * 1000 + 60_000).then((answer) => {
      if (answer?.version === undefined) return;
      acknowledged.set(key, { aggregateId, version: answer.version });
      acks.ack();
    }));
  }
  await Promise.all(inFlight);
  return { acknowledged, offered: total, startedAt };
}

export async function runBrokerLoss(options: BrokerLossOptions): Promise<BrokerLossResult> {
  const cluster = await startKafkaCluster(3, quiet);
  const env = clusterEnv(cluster);
  const config = loadConfig(env);
  const logger = createLogger({ logLevel: 'silent' }, 'broker-loss');
  const log = createLogClient(config, { clientId: 'strata-broker-loss', logger });
  const processors: ProcessorProcess[] = [];
  let gateway: Gateway | undefined;
  let projector: Projector | undefined;
  const cleanUp = async () => {
    await projector?.stop();
    await cluster.remove();
  };
  try {
    await ensureWriteSideTopics(log, config);
    processors.push(spawnProcessor(env), spawnProcessor(env));
    gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    projector = await startProjector({ log, config, logger, projections: counterApp.projections, events: counterApp.domain.events });
    const url = gateway.url;
    // Every partition served before the clock starts: each counter's first command.
    for (let i = 0; i < 200; i++) {
      if ((await settle(url, `warm-${i}`, { aggregateId: `c-${i}`, data: { by: 1, label: `c-${i}` } }, Date.now() + 120_000)) === undefined) throw new Error(`counter c-${i} was not created`);
    }
    const acks = ackClock();
    const { node: killedNode, led: ledPartitions } = await busiestLeader(log, config);
    let killedAt = 0;
    const faults = (async () => {
      await sleep(options.killAt * 1000);
      await killNode(cluster, killedNode);
      killedAt = Date.now();
      options.log(`SIGKILL kafka node ${killedNode} (leader of ${ledPartitions} events partitions)`);
      await sleep((options.restartAt - options.killAt) * 1000);
      await cluster.restart();
      options.log(`kafka node ${killedNode} is back (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill)`);
    })();
    const [run] = await Promise.all([offerLoad(gateway, uniqueName('load'), options, acks), faults]);
    const loadEnds = run.startedAt + options.loadSeconds * 1000;
    const perSecond = acks.perSecond(run.startedAt, options.loadSeconds);
    const firstBack = perSecond.findIndex((count, second) => run.startedAt + second * 1000 >= killedAt && count >= 0.9 * options.rate);
    return {
      acknowledged: run.acknowledged,
      offered: run.offered,
      committed: await readCommitted(log, config),
      killedNode,
      ledPartitions,
      longestSilenceMs: acks.longestSilenceMs(run.startedAt, loadEnds),
      recoveryMs: firstBack < 0 ? undefined : run.startedAt + firstBack * 1000 - killedAt,
      perSecond,
      config,
      projector,
      log,
      cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  } finally {
    await gateway?.stop();
    for (const { child } of processors) child.kill('SIGTERM');
    await Promise.all(processors.map((processor) => processor.exited()));
  }
}
