/**
 * The write scenario: the workload's commands (workload.ts) at fixed rates through the
 * HTTP gateway, against the local stack, on fresh topics.
 *
 * `all` (the default, what users run): the whole platform as `strata start --no-stack`
 * starts it, every role in a process of its own, the app's projections, query
 * service and sagas included. `write`: only a gateway and command processors.
 * Beside Strata's figures, in the same run: Kafka's own end-to-end latency
 * (`EndToEndLatency`, while the platform idles), and the CPU each process uses with no
 * traffic at all, the broker's also before any Strata process is connected.
 *
 * Each tracing variant (`off`: OTEL_SDK_DISABLED=true; `on`: the platform's default
 * sampling and exporter) runs with processes of its own, and the variants take turns
 * round after round, so a drift of this shared machine falls on both alike. So does each
 * Kafka variant: the stack's one broker, or a cluster of `brokers` nodes started for the
 * variant (kafka-cluster.ts), Strata's topics replicated on all of them (up to three). Besides
 * throughput and latency, every rate reports the CPU time each process used per
 * accepted command.
 *
 * Beside Strata, in each round: its peer, what a user would pick instead, an emmett +
 * PostgreSQL service running the app's own decider of the load's aggregate (peer/),
 * measured at the same rates with the same load and the same CPU accounting.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafkaCluster, type KafkaCluster } from '../infra/stack/kafka-cluster.js';
import { selectServers, status } from '../infra/stack/stack.js';
import { loadConfig } from '../shared/config.js';
import { createLogClient } from '../shared/kafka/kafkajs-client.js';
import { createLogger } from '../shared/logger.js';
import { authSettings, authorization as authorizationOf, identityProviderFor, type AuthVariant } from './bench-auth.js';
import { benchTopicPrefix, dropBenchLeftovers, rolesOf, spawnPlatform, spawnRole, waitReady } from './bench-processes.js';
import { cpuPercent, measureRate, processMeter } from './cpu-meters.js';
import { kafkaEndToEndLatency, type KafkaEndToEnd } from './kafka-limits.js';
import type { LoadResult } from './open-loop.js';
import { runPeerRound, type PeerMode, type PeerRound } from './peer/peer-scenario.js';
import { stageBreakdown, type StageBreakdown } from './stage-breakdown.js';
import { loadRequest, sendSetup } from './write-load.js';
import type { Workload } from './workload.js';

export type TracingVariant = 'off' | 'on';
export type RoleSet = 'all' | 'write';

export interface WriteScenarioOptions {
  rates: number[];
  seconds: number;
  warmupSeconds: number;
  /** How long the idle CPU is measured. */
  idleSeconds: number;
  roles: RoleSet;
  /** Command processors (`write` only; `all` runs one of each role). */
  processors: number;
  /** Aggregates the setup makes and the load works on. */
  products: number;
  /** The commands, the app's (workload.ts). */
  workload: Workload;
  gatewayPort: number;
  /** Extra node flags for the service processes (e.g. --trace-gc, --cpu-prof). */
  nodeFlags: string[];
  tracing: TracingVariant[];
  /** With STRATA_AUTH=on every request carries a token from the local Keycloak (rate limits off: one principal sends everything). */
  auth: AuthVariant[];
  /** Kafka brokers: 1 is the stack's own; more, a cluster of that size for the variant. */
  brokers: number[];
  rounds: number;
  /** The emmett + PostgreSQL peer (peer/peer-scenario.ts): after Strata's variants of each round (`on`), not at all (`off`), or alone (`only`). */
  peer: PeerMode;
  progress: (line: string) => void;
}

export interface WriteResult extends LoadResult {
  tracing: TracingVariant;
  auth: AuthVariant;
  round: number;
  /** CPU milliseconds per accepted command, by process (the stack's servers too). */
  cpuMsPerCommand: Record<string, number>;
  /** Where the time of the sampled commands went (none without tracing). */
  stages?: StageBreakdown;
}

export interface VariantResult {
  tracing: TracingVariant;
  auth: AuthVariant;
  brokers: number;
  round: number;
  roles: RoleSet;
  /** Percent of one core each process used with no traffic; the stack's servers before Strata started, and with it idle. */
  idleCpuPercent: { beforeStrata: Record<string, number>; platformIdle: Record<string, number>; strataTotal: number };
  /** Kafka's own produce→consume latency (acks=all, 200-byte records), measured while the platform idled. */
  kafkaEndToEnd: KafkaEndToEnd;
  rates: WriteResult[];
}

interface Measured {
  name: string;
  pid: number;
}

/** The servers the variant's Strata uses: the stack's, with the cluster's nodes for its Kafka. */
async function stackServers(cluster: KafkaCluster | undefined): Promise<Measured[]> {
  const config = loadConfig();
  const stack = await status(config, selectServers(config, []));
  const servers = cluster === undefined ? stack : [...stack.filter((server) => !server.server.startsWith('kafka')), ...(await cluster.nodes())];
  return servers.flatMap((server) => (server.pid === null ? [] : [{ name: server.server, pid: server.pid }]));
}

interface Variant {
  tracing: TracingVariant;
  auth: AuthVariant;
  brokers: number;
  round: number;
}

async function runVariant(options: WriteScenarioOptions, { tracing, auth, brokers, round }: Variant): Promise<VariantResult> {
  const cluster = brokers > 1 ? await startKafkaCluster(brokers, { step: options.progress, detail: () => undefined }) : undefined;
  try {
    return await measureVariant(options, { tracing, auth, brokers, round }, cluster);
  } finally {
    await cluster?.remove();
  }
}

async function measureVariant(options: WriteScenarioOptions, { tracing, auth, brokers, round }: Variant, cluster: KafkaCluster | undefined): Promise<VariantResult> {
  const port = options.gatewayPort;
  const env = {
    ...process.env,
    STRATA_TOPIC_PREFIX: benchTopicPrefix('write'),
    STRATA_GATEWAY_PORT: String(port),
    STRATA_GATEWAY_GRPC_PORT: String(port + 1),
    STRATA_QUERY_PORT: String(port + 2),
    STRATA_QUERY_GRPC_PORT: String(port + 3),
    STRATA_PROCESSOR_METRICS_PORT: String(port + 4),
    STRATA_PROJECTOR_METRICS_PORT: String(port + 5),
    STRATA_SAGA_METRICS_PORT: String(port + 6),
    STRATA_LOG_LEVEL: 'warn',
    OTEL_SDK_DISABLED: tracing === 'off' ? 'true' : 'false',
    ...authSettings(auth),
    ...(cluster === undefined ? {} : { STRATA_KAFKA_BROKERS: cluster.brokers }),
  };
  const config = loadConfig(env);
  await dropBenchLeftovers(config);
  const variant = `tracing ${tracing}, auth ${auth}, ${brokers} broker(s), round ${String(round)}`;
  // A token lives five minutes: a fresh one for each load.
  const authorization = () => authorizationOf(auth, config, options.workload.roles);
  await identityProviderFor(auth, config, options.progress);
  const servers = await stackServers(cluster);
  options.progress(`${variant}: ${options.idleSeconds} s of the stack's idle CPU before Strata starts`);
  const beforeStrata = await cpuPercent(servers.map(processMeter), options.idleSeconds);

  let children: ChildProcess[];
  let roles: () => Measured[];
  if (options.roles === 'all') {
    const platform = spawnPlatform(env, options.nodeFlags);
    children = [platform];
    roles = () => rolesOf(platform.pid ?? 0);
  } else {
    const gateway = spawnRole(env, 'gateway', [], options.nodeFlags);
    const processors = Array.from({ length: options.processors }, () => spawnRole(env, 'processor', [], options.nodeFlags));
    children = [gateway, ...processors];
    roles = () => [
      { name: 'gateway', pid: gateway.pid ?? 0 },
      ...processors.map((child, index) => ({ name: processors.length === 1 ? 'processor' : `processor-${index + 1}`, pid: child.pid ?? 0 })),
    ];
  }
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url);
    if (options.roles === 'all') await waitReady(`http://127.0.0.1:${port + 2}`);
    options.progress(`${variant}: registering ${String(options.products)} products`);
    await sendSetup(url, options.workload, options.products, await authorization());
    const processes = [...roles(), ...servers].map(processMeter);
    // Let the read models take the registrations before the platform counts as idle.
    await sleep(5_000);
    options.progress(`${variant}: ${options.idleSeconds} s of the platform's idle CPU`);
    const platformIdle = await cpuPercent(processes, options.idleSeconds);
    const strataTotal = Math.round(roles().reduce((sum, { name }) => sum + (platformIdle[name] ?? 0), 0) * 10) / 10;
    options.progress(`${variant}: Kafka's EndToEndLatency`);
    const log = createLogClient(config, { clientId: 'strata-bench', logger: createLogger({ logLevel: 'silent' }, 'bench') });
    const kafkaEndToEnd = await kafkaEndToEndLatency(log, config);
    options.progress(`${variant}: idle ${JSON.stringify(platformIdle)}; Kafka end to end ${JSON.stringify(kafkaEndToEnd)}`);

    const request = loadRequest(options.workload, options.products);
    const results: WriteResult[] = [];
    for (const rate of options.rates) {
      options.progress(`${variant}, rate ${String(rate)}/s: ${options.warmupSeconds} s warm-up, ${options.seconds} s measured`);
      const headers = await authorization();
      const load = { url, rate, seconds: options.seconds, request, accepted: 200, headers };
      const { result, cpuMsPerCommand, measuredFrom, measuredTo } = await measureRate(load, options.warmupSeconds, processes);
      // The spans of the interval's last commands reach Zipkin with the exporters' next batch.
      const stages = tracing === 'on' ? await sleep(6_000).then(() => stageBreakdown(config.zipkin.url, options.workload.write.commandType, measuredFrom, measuredTo)) : undefined;
      const measured = { ...result, tracing, auth, round, cpuMsPerCommand, ...(stages === undefined ? {} : { stages }) };
      options.progress(`${variant}, rate ${String(rate)}/s: ${JSON.stringify(measured)}`);
      results.push(measured);
    }
    return { tracing, auth, brokers, round, roles: options.roles, idleCpuPercent: { beforeStrata, platformIdle, strataTotal }, kafkaEndToEnd, rates: results };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  }
}

export interface WriteScenarioResult {
  /** Strata's variants, round after round. */
  strata: VariantResult[];
  /** The peer's figures, one entry a round (none with `--peer off`). */
  peer: PeerRound[];
}

export async function runWriteScenario(options: WriteScenarioOptions): Promise<WriteScenarioResult> {
  const strata: VariantResult[] = [];
  const peer: PeerRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    if (options.peer !== 'only') {
      for (const tracing of options.tracing) {
        for (const auth of options.auth) for (const brokers of options.brokers) strata.push(await runVariant(options, { tracing, auth, brokers, round }));
      }
    }
    // In the same round as Strata's variants, so a drift of this shared machine falls on both.
    if (options.peer !== 'off') peer.push(await runPeerRound(options, round));
  }
  return { strata, peer };
}
