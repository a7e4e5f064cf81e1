/**
 * Where Strata's listeners bind and what a processor advertises (STRATA_BIND_HOST,
 * STRATA_ADVERTISED_HOST), on other loopback addresses of this machine (all of
 * 127.0.0.0/8 is local on Linux): bound to 127.0.0.2, the gateway, query service,
 * /metrics and the processor answer there and not on 127.0.0.1, and the processor
 * publishes 127.0.0.2 for the direct route, which the gateway then takes; bound to
 * every interface, a processor publishes the advertised host instead.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../shared/config.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { serveMetrics } from '../../shared/metrics.js';
import { deleteWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { startQueryService } from '../../read-side/query-service.js';
import { startCommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { startGateway } from '../../write-side/gateway/gateway.js';
import { processorStatus } from '../../write-side/processor-status.js';
import counterApp from '../apps/counter-app.js';
import { freePorts } from '../../infra/stack/ports.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';

const refused = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then(() => false, () => true);

/** The addresses the processors publish, once every partition is served. */
async function advertised(config: Config): Promise<string[]> {
  const log = createLogClient(config, { clientId: 'strata-test', logger });
  for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 200))) {
    const reports = await processorStatus(log, config);
    if (reports.every((report) => report.serving) || Date.now() > deadline) return [...new Set(reports.map((report) => report.status?.address ?? 'none'))];
  }
}

describe('bind and advertised hosts', () => {
  const configs: Config[] = [];
  const configOf = (env: Record<string, string>) => {
    const config = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-hosts'), STRATA_PARTITIONS: '2', ...env });
    configs.push(config);
    return config;
  };
  after(async () => {
    for (const config of configs) await deleteWriteSideTopics(createLogClient(config, { clientId: 'strata-test', logger }), config);
  });

  it('binds every listener to STRATA_BIND_HOST and advertises it for the direct route', { timeout: 90_000 }, async () => {
    const [processorPort = 0, metricsPort = 0] = await freePorts(2);
    const config = configOf({ STRATA_BIND_HOST: '127.0.0.2', STRATA_PROCESSOR_GRPC_PORT: String(processorPort) });
    const log = createLogClient(config, { clientId: 'strata-test', logger });
    const processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
    const gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    const query = await startQueryService({ config, logger, queries: counterApp.queries, port: 0, grpcPort: 0 });
    const metrics = await serveMetrics({ host: config.network.bindHost, port: metricsPort }, logger);
    try {
      assert.deepEqual(await advertised(config), [`127.0.0.2:${String(processorPort)}`]);
      for (const url of [gateway.url, query.url, `http://127.0.0.2:${String(metrics.port)}`]) {
        assert.match(url, /^http:\/\/127\.0\.0\.2:\d+$/);
        assert.equal((await fetch(`${url}/healthz`)).status, 200, url);
        assert.ok(await refused(`${url.replace('127.0.0.2', '127.0.0.1')}/healthz`), `${url} is not on 127.0.0.1`);
      }
      const answer = await fetch(`${gateway.url}/commands/Increment`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aggregateId: 'c-1', data: { by: 1 } }),
      });
      assert.equal(answer.status, 200, await answer.text());
      const commands = await readWholeTopic(log, writeSideTopics(config).commands, { partitions: 2 });
      assert.deepEqual(commands, [], 'the gateway took the direct route to the advertised address');
    } finally {
      await metrics.stop();
      await query.stop();
      await gateway.stop();
      await processor.stop();
    }
  });

  it('advertises STRATA_ADVERTISED_HOST when bound to every interface', { timeout: 90_000 }, async () => {
    const [processorPort = 0] = await freePorts(1);
    const config = configOf({ STRATA_BIND_HOST: '0.0.0.0', STRATA_ADVERTISED_HOST: '127.0.0.3', STRATA_PROCESSOR_GRPC_PORT: String(processorPort) });
    const processor = await startCommandProcessor({ log: createLogClient(config, { clientId: 'strata-test', logger }), config, domain: counterApp.domain, logger });
    try {
      assert.deepEqual(await advertised(config), [`127.0.0.3:${String(processorPort)}`]);
    } finally {
      await processor.stop();
    }
  });
});
