/**
 * The write scenario: RestockProduct commands at fixed rates through the HTTP
 * gateway, with a gateway and command processors running as their own processes
 * (`strata start --role …`) against the local stack, on fresh topics.
 *
 * Each tracing variant (`off`: OTEL_SDK_DISABLED=true; `on`: the platform's default
 * sampling and exporter) runs with processes of its own, and the variants take turns
 * round after round, so a drift of this shared machine falls on both alike. Besides
 * throughput and latency, every rate reports the CPU time each process used per
 * accepted command: on a saturated two-core box that is the steadier measure of what
 * tracing costs, since throughput is what is left of the cores once all have taken theirs.
 */
import { randomUUID } from 'node:crypto';
import { cpuSeconds } from '../infra/stack/process-control.js';
import { selectServers, status } from '../infra/stack/stack.js';
import { loadConfig } from '../shared/config.js';
import { spawnRole, waitReady } from './bench-processes.js';
import { runOpenLoop, type LoadResult } from './open-loop.js';

export type TracingVariant = 'off' | 'on';

export interface WriteScenarioOptions {
  rates: number[];
  seconds: number;
  warmupSeconds: number;
  processors: number;
  products: number;
  gatewayPort: number;
  /** Extra node flags for the service processes (e.g. --trace-gc, --cpu-prof). */
  nodeFlags: string[];
  tracing: TracingVariant[];
  rounds: number;
  progress: (line: string) => void;
}

export interface WriteResult extends LoadResult {
  tracing: TracingVariant;
  round: number;
  /** CPU milliseconds per accepted command, by process (the stack's servers too). */
  cpuMsPerCommand: Record<string, number>;
}

/** The processes whose CPU time is counted: this run's roles and the stack's servers. */
async function measuredProcesses(roles: { name: string; pid: number | undefined }[]): Promise<{ name: string; pid: number }[]> {
  const servers = await status(loadConfig(), selectServers([]));
  return [
    ...roles,
    ...servers.map((server) => ({ name: server.server, pid: server.pid ?? undefined })),
  ].filter((entry): entry is { name: string; pid: number } => entry.pid !== undefined);
}

const cpuOf = (processes: { name: string; pid: number }[]) => processes.map(({ pid }) => cpuSeconds(pid) ?? 0);

async function runVariant(options: WriteScenarioOptions, tracing: TracingVariant, round: number): Promise<WriteResult[]> {
  const env = {
    ...process.env,
    STRATA_TOPIC_PREFIX: `bench-${Date.now().toString(36)}`,
    STRATA_GATEWAY_PORT: String(options.gatewayPort),
    STRATA_GATEWAY_GRPC_PORT: String(options.gatewayPort + 1),
    STRATA_LOG_LEVEL: 'warn',
    OTEL_SDK_DISABLED: tracing === 'off' ? 'true' : 'false',
  };
  const role = (name: string) => spawnRole(env, name, [], options.nodeFlags);
  const gateway = role('gateway');
  const processors = Array.from({ length: options.processors }, () => role('processor'));
  const children = [gateway, ...processors];
  const url = `http://127.0.0.1:${options.gatewayPort}`;
  try {
    await waitReady(url);
    options.progress(`tracing ${tracing}, round ${round}: registering ${options.products} products`);
    const skus = Array.from({ length: options.products }, (_, i) => `bench-${i}`);
    for (let i = 0; i < skus.length; i += 50) {
      await Promise.all(
        skus.slice(i, i + 50).map(async (sku) => {
          const response = await fetch(`${url}/commands/RegisterProduct`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ aggregateId: sku, data: { name: sku, description: '', priceCents: 100, currency: 'EUR', tags: [] } }),
          });
          if (response.status !== 200) throw new Error(`registering ${sku}: ${response.status} ${await response.text()}`);
        }),
      );
    }
    const restock = (i: number) => ({
      path: '/commands/RestockProduct',
      body: JSON.stringify({ aggregateId: skus[i % skus.length], data: { quantity: 1 } }),
    });
    const processes = await measuredProcesses([
      { name: 'gateway', pid: gateway.pid },
      ...processors.map((child, index) => ({ name: processors.length === 1 ? 'processor' : `processor-${index + 1}`, pid: child.pid })),
    ]);
    const results: WriteResult[] = [];
    for (const rate of options.rates) {
      options.progress(`tracing ${tracing}, round ${round}, rate ${rate}/s: ${options.warmupSeconds} s warm-up, ${options.seconds} s measured`);
      const runId = randomUUID();
      await runOpenLoop({ url, rate, seconds: options.warmupSeconds, request: restock, accepted: 200 });
      const cpuBefore = cpuOf(processes);
      const generatorBefore = process.cpuUsage();
      const result = await runOpenLoop({ url, rate, seconds: options.seconds, request: restock, accepted: 200 });
      const generator = process.cpuUsage(generatorBefore);
      const cpuAfter = cpuOf(processes);
      const accepted = Math.max(1, result.statuses['200'] ?? 0);
      const perCommand = (seconds: number) => Math.round((seconds * 1_000_000) / accepted) / 1000;
      const cpuMsPerCommand = {
        ...Object.fromEntries(processes.map(({ name }, index) => [name, perCommand((cpuAfter[index] ?? 0) - (cpuBefore[index] ?? 0))])),
        'load generator': perCommand((generator.user + generator.system) / 1_000_000),
      };
      const measured = { ...result, tracing, round, cpuMsPerCommand };
      options.progress(`tracing ${tracing}, round ${round}, rate ${rate}/s (${runId.slice(0, 8)}): ${JSON.stringify(measured)}`);
      results.push(measured);
    }
    return results;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  }
}

export async function runWriteScenario(options: WriteScenarioOptions): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const tracing of options.tracing) results.push(...(await runVariant(options, tracing, round)));
  }
  return results;
}
