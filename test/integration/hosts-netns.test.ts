/**
 * Services on separate hosts (issue 28): hosts made on this machine with Linux network
 * namespaces (test/support/host-network.ts), one address each, nothing but each
 * other and their own loopback to reach. Three Kafka nodes on three hosts, each
 * advertising its own address (the local stack's node properties, launched with
 * `ip netns exec`); two command processors (`strata start --role processor`) on two
 * more, bound to their host's address; the gateway, the query service and a projector
 * of the counter-value read model (`strata start --role gateway query projector`) with
 * a Redis of their own on another; the client on its own. Under an open-loop load from
 * the client host it checks that every command is answered, that the gateway hands
 * them to the processors directly across hosts (the processors advertise their host's
 * address, as `strata processors status` shows), that the query service reads a write
 * back from Redis, and that each processor's port refuses a call from the client's
 * host without the internal credential and decides nothing of it.
 *
 * Not covered: Elasticsearch (no search query, no search projection); the query service
 * reads Redis only. Skipped, saying why, where the kernel refuses network namespaces.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../../shared/config.js';
import { hostPort } from '../../shared/network-address.js';
import { brokerPorts, prepareKafkaNode } from '../../infra/stack/kafka-server.js';
import { ensureRedisServer } from '../../infra/stack/prerequisites.js';
import type { PartitionReport } from '../../write-side/processor-status.js';
import type { ClientPlan, ClientReport } from '../support/host-client.js';
import { createHostNetwork, namespacesRefused, removeStaleHosts, runPrefix, type HostNetwork } from '../support/host-network.js';
import { counterAppModule, processorCommand, spawnWatched, strataCli, type ProcessorProcess } from '../../bench/processor-process.js';
import { uniqueName } from '../support/test-context.js';

const quiet = { step: () => undefined, detail: () => undefined };
const clientScript = fileURLToPath(new URL('../support/host-client.js', import.meta.url));
const brokerHosts = ['kafka-1', 'kafka-2', 'kafka-3'];
const processorHosts = ['processor-1', 'processor-2'];
const partitions = 4;
// Enough to batch at the owners, little enough for a two-core runner that also runs
// the three Kafka nodes; the routes, not the throughput, are what is checked.
const load = { rate: 50, seconds: 15 };

/** What each process wrote last, named by its host's namespace (`ip netns exec <namespace> …`), for a failure's message. */
const tails = (processes: readonly ProcessorProcess[]) => processes.map(({ child, log }) => `--- ${child.spawnargs[3] ?? ''}\n${log.join('').slice(-1500)}`).join('\n');

/** Resolves once `text` is in the process's output; rejects if it exits first, or after `timeoutMs`. */
async function started(server: ProcessorProcess, text: string, timeoutMs: number, name: string): Promise<void> {
  let settled = false;
  const exit = server.exited().then(() => {
    if (!settled) throw new Error(`${name} exited before it logged "${text}":\n${tails([server])}`);
  });
  try {
    await Promise.race([server.waitFor(text, timeoutMs), exit]);
  } finally {
    settled = true;
  }
}

/** Every partition's report, once all are served and by both processors (polled with `strata processors status --json` from the gateway's host). */
async function servedPartitions(network: HostNetwork, env: NodeJS.ProcessEnv, services: readonly ProcessorProcess[]): Promise<PartitionReport[]> {
  const [program, ...args] = network.on('gateway', [process.execPath, strataCli, 'processors', 'status', '--json']);
  let last = '';
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; ) {
    const { stdout = '', stderr = '' } = await promisify(execFile)(program, args, { env }).catch((error: unknown) => error as { stdout?: string; stderr?: string });
    last = `${stdout}${stderr}`;
    const reports = stdout.startsWith('[') ? (JSON.parse(stdout) as PartitionReport[]) : [];
    // Both processors: the first to start serves every partition until the second joins.
    const owners = new Set(reports.map((report) => report.status?.address));
    if (reports.length === partitions && reports.every((report) => report.serving) && owners.size === processorHosts.length) return reports;
    await sleep(1000);
  }
  throw new Error(`the partitions were not all served, by both processors, within 90 s; strata processors status said:\n${last}\n${tails(services)}`);
}

describe('services on separate hosts', { skip: namespacesRefused() ?? false }, () => {
  let network: HostNetwork | undefined;
  let folder: string | undefined;
  /** Strata's processes (Kafka's nodes and Redis go with their hosts). */
  const services: ProcessorProcess[] = [];
  let reports: PartitionReport[] = [];
  let client: ClientReport;

  /** The three Kafka nodes, each on its host; resolves to STRATA_KAFKA_BROKERS. */
  async function startBrokers(hosts: HostNetwork, dir: string): Promise<string> {
    const config = loadConfig({ ...process.env, STRATA_STACK_DIR: dir, STRATA_KAFKA_PORT: '9092', STRATA_KAFKA_CONTROLLER_PORT: '9093', STRATA_KAFKA_HEAP: '512m' });
    const addresses = brokerHosts.map((host) => hosts.addresses[host] ?? '');
    const nodes = await Promise.all(
      brokerHosts.map(async (host, index) => {
        const launch = await prepareKafkaNode(config, join(dir, host), index + 1, addresses, quiet);
        return spawnWatched(hosts.on(host, [launch.command, ...launch.args]), process.env, launch.cwd);
      }),
    );
    // A node logs this once it is unfenced: then it is one of the brokers topics are created on.
    await Promise.all(nodes.map((node, index) => started(node, 'Kafka Server started', 120_000, brokerHosts[index] ?? '')));
    return addresses.map((address, index) => hostPort(address, brokerPorts(config, index + 1).port)).join(',');
  }

  before(async () => {
    await removeStaleHosts();
    network = await createHostNetwork([...brokerHosts, ...processorHosts, 'gateway', 'client']);
    folder = mkdtempSync(join(tmpdir(), runPrefix));
    const at = network.addresses;
    const gateway = at.gateway ?? '';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      STRATA_STACK_DIR: folder,
      STRATA_STACK_SECURITY: 'off',
      STRATA_KAFKA_BROKERS: await startBrokers(network, folder),
      STRATA_TOPIC_PREFIX: uniqueName('test-hosts'),
      STRATA_PARTITIONS: String(partitions),
      STRATA_AUTH: 'off',
      STRATA_INTERNAL_SECRET: randomBytes(32).toString('base64'),
      STRATA_REDIS_URL: `redis://${gateway}:6379`,
      STRATA_ELASTICSEARCH_URL: `http://${gateway}:9200`,
      STRATA_TRACES_PER_SECOND: '0',
      STRATA_TRACES_RATIO: '0',
      STRATA_LOG_LEVEL: 'warn',
      // A stall of a busy runner must neither turn a direct call into a topic one at its
      // deadline nor fail the read back (a Redis call over its time opens the breaker: 503).
      STRATA_COMMAND_TIMEOUT_MS: '20000',
      STRATA_CONSISTENCY_WAIT_MS: '20000',
      STRATA_BACKEND_TIMEOUT_MS: '10000',
    };
    const redis = spawnWatched(network.on('gateway', [await ensureRedisServer(quiet), '--bind', gateway, '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']), env);
    await started(redis, 'Ready to accept connections', 30_000, 'redis');
    for (const host of processorHosts) services.push(spawnWatched(network.on(host, processorCommand()), { ...env, STRATA_BIND_HOST: at[host] }));
    const roles = ['start', '--role', 'gateway', 'query', 'projector', '--projection', 'counter-value', '--no-stack', '--app', counterAppModule];
    services.push(spawnWatched(network.on('gateway', [process.execPath, strataCli, ...roles]), { ...env, STRATA_BIND_HOST: gateway }));
    reports = await servedPartitions(network, env, services);
    const owners = [...new Map(reports.map((report) => [report.status?.address ?? '', report.partition])).entries()].map(([address, partition]) => ({ address, partition }));
    const plan: ClientPlan = { gateway: `http://${gateway}:8080`, query: `http://${gateway}:8081`, owners, partitions, ...load };
    const run = spawnWatched(network.on('client', [process.execPath, clientScript, JSON.stringify(plan)]), env);
    services.push(run);
    await run.exited();
    const output = run.log.join('').trim().split('\n').at(-1) ?? '';
    assert.ok(output.startsWith('{'), `the client failed:\n${tails(services)}`);
    client = JSON.parse(output) as ClientReport;
  }, { timeout: 240_000 });

  after(async () => {
    // Strata's services first, while Kafka is still there to leave their groups; then the rest.
    for (const service of services) service.child.kill('SIGTERM');
    await Promise.race([Promise.all(services.map((service) => service.exited())), sleep(15_000)]);
    await network?.remove();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  it('answers every command of the load from the client host', () => {
    assert.deepEqual(client.statuses, { 200: client.sent });
  });

  it('hands the commands to the processors directly, across hosts', () => {
    assert.equal(client.routes.direct + client.routes.topic, client.sent);
    assert.ok(client.routes.topic <= client.sent / 100, `${String(client.routes.topic)} of ${String(client.sent)} commands went through the commands topic`);
  });

  it("has each processor advertise its own host's address", () => {
    const hosts = new Set(reports.map((report) => (report.status?.address ?? '').replace(/:\d+$/, '')));
    assert.deepEqual([...hosts].sort(), processorHosts.map((host) => network?.addresses[host]).sort());
  });

  it('reads a write back through the query service, from Redis on its host', () => {
    assert.equal(client.readBack.status, 200, `${client.readBack.answer}\n${tails(services)}`);
    assert.equal(client.readBack.value, client.readBack.expected);
  });

  it("refuses a call from the client's host without the internal credential, and decides nothing", () => {
    assert.equal(client.forged.length, processorHosts.length);
    for (const forged of client.forged) {
      assert.equal(forged.code, grpc.status.UNAUTHENTICATED, `${forged.address}: ${forged.details ?? 'decided'}`);
      assert.equal(forged.firstVersionAfter, 1, `${forged.address}: the forged command appended nothing`);
    }
  });
});
