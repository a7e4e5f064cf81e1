/**
 * The write scenario: RestockProduct commands at fixed rates through the HTTP
 * gateway, with a gateway and command processors running as their own processes
 * (`strata start --role …`) against the local stack, on fresh topics.
 */
import { randomUUID } from 'node:crypto';
import { spawnRole, waitReady } from './bench-processes.js';
import { runOpenLoop, type LoadResult } from './open-loop.js';

export interface WriteScenarioOptions {
  rates: number[];
  seconds: number;
  warmupSeconds: number;
  processors: number;
  products: number;
  gatewayPort: number;
  /** Extra node flags for the service processes (e.g. --trace-gc, --cpu-prof). */
  nodeFlags: string[];
  progress: (line: string) => void;
}

export async function runWriteScenario(options: WriteScenarioOptions): Promise<LoadResult[]> {
  const env = {
    ...process.env,
    STRATA_TOPIC_PREFIX: `bench-${Date.now().toString(36)}`,
    STRATA_GATEWAY_PORT: String(options.gatewayPort),
    STRATA_GATEWAY_GRPC_PORT: String(options.gatewayPort + 1),
    STRATA_LOG_LEVEL: 'warn',
  };
  const role = (name: string) => spawnRole(env, name, [], options.nodeFlags);
  const children = [role('gateway'), ...Array.from({ length: options.processors }, () => role('processor'))];
  const url = `http://127.0.0.1:${options.gatewayPort}`;
  try {
    await waitReady(url);
    options.progress(`registering ${options.products} products`);
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
    const results: LoadResult[] = [];
    for (const rate of options.rates) {
      options.progress(`rate ${rate}/s: ${options.warmupSeconds} s warm-up, ${options.seconds} s measured`);
      const runId = randomUUID();
      await runOpenLoop({ url, rate, seconds: options.warmupSeconds, request: restock, accepted: 200 });
      const result = await runOpenLoop({ url, rate, seconds: options.seconds, request: restock, accepted: 200 });
      options.progress(`rate ${rate}/s (${runId.slice(0, 8)}): ${JSON.stringify(result)}`);
      results.push(result);
    }
    return results;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  }
}
