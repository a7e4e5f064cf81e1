/**
 * An Elasticsearch node lost under a search load (issue 28's fault test,
 * docs/deployment.md "An Elasticsearch cluster on one machine"): a cluster of two
 * nodes of its own, the indices a real projector of the neutral test app made (one
 * replica each, the default on two data nodes), a query service reaching both nodes
 * (STRATA_ELASTICSEARCH_URL lists them), and 50 searches a second for 30 s. At second
 * 10 the elected master is SIGKILLed: the harder loss, since two master-eligible nodes
 * keep one vote and the survivor is left without a master, reading its last cluster
 * state. Asserted: searches answer again after the kill, and every answer has all the
 * documents written. Printed: the failed searches and the longest stretch without an
 * answer (goal: 5000 ms, a benchmark figure, not an assertion).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import { loadConfig, type Config } from '../../shared/config.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { elasticsearchNames } from '../../stores/elasticsearch/elasticsearch-layout.js';
import { startProjector } from '../../projections/projector.js';
import { startQueryService, type QueryService } from '../../read-side/query-service.js';
import { startElasticsearchCluster, type ElasticsearchCluster } from '../../infra/stack/elasticsearch-cluster.js';
import counterApp, { counterSearch, searchCounters } from '../apps/counter-app.js';
import { takeCounterEvents } from '../support/counter-event-log.js';
import { appendEvents } from '../../bench/event-appender.js';
import { caughtUp } from '../support/projection-wait.js';
import { runSearchLoad } from '../support/search-load.js';
import { logger, uniqueName } from '../support/test-context.js';

const quiet = { step: () => undefined, detail: () => undefined };
const say = (line: string) => { console.log(`# ${line}`); };

/** Writes the counter events through a real projector into the cluster; the number of counters written. */
async function project(config: Config): Promise<number> {
  const log = createLogClient(config, { clientId: 'strata-es-node-loss', logger });
  const events = takeCounterEvents(3000, { seed: 28, counters: 400 });
  await ensureWriteSideTopics(log, config);
  await appendEvents(log, writeSideTopics(config).events, events);
  const projector = await startProjector({ log, config, logger, projections: [counterSearch], events: counterApp.domain.events });
  try {
    await caughtUp(log, config, [counterSearch], 120_000);
  } finally {
    await projector.stop();
  }
  return new Set(events.map((event) => event.aggregateId)).size;
}

/** The elected master's node number (node n is strata-local-n), and where each primary of the test's indices is. */
async function layout(client: Client, config: Config): Promise<{ master: number; primaries: string[] }> {
  const [master] = await client.cat.master({ format: 'json' });
  const names = elasticsearchNames(config, counterSearch);
  const shards = await client.cat.shards({ index: [names.index, names.checkpoints], format: 'json' });
  return {
    master: Number(/(\d+)$/.exec(master?.node ?? '')?.[1]),
    primaries: shards.filter((shard) => shard.prirep === 'p').map((shard) => `${shard.index ?? ''} on ${shard.node ?? '?'}`),
  };
}

/** Kills node `node` as a machine dies: its launcher and server JVM are one process group. */
async function killNode(cluster: ElasticsearchCluster, node: number): Promise<void> {
  const row = (await cluster.nodes()).find((candidate) => candidate.node === node);
  if (row?.pid == null) throw new Error(`elasticsearch node ${node} is not running`);
  process.kill(-row.pid, 'SIGKILL');
}

async function searchable(url: string, total: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = (await (await fetch(url)).json()) as { total?: number };
    if (answer.total === total) return;
    if (Date.now() > deadline) throw new Error(`searches answer ${String(answer.total)} counters, not ${total}`);
    await sleep(200);
  }
}

describe('an Elasticsearch node lost under a search load', () => {
  it('keeps answering searches, every answer complete', { timeout: 300_000 }, async () => {
    const began = Date.now();
    const cluster = await startElasticsearchCluster(2, quiet);
    say(`a cluster of two nodes at ${cluster.urls} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const config = loadConfig({ ...process.env, STRATA_ELASTICSEARCH_URL: cluster.urls, STRATA_TOPIC_PREFIX: uniqueName('es-node-loss'), STRATA_PARTITIONS: '2' });
    const client = createElasticsearch(config);
    let service: QueryService | undefined;
    try {
      const counters = await project(config);
      service = await startQueryService({ config, logger, queries: [searchCounters], port: 0, grpcPort: 0 });
      const names = elasticsearchNames(config, counterSearch);
      const health = await client.cluster.health({ index: [names.index, names.checkpoints], wait_for_status: 'green', timeout: '90s' });
      assert.equal(health.status, 'green');
      assert.equal(health.active_shards, 2 * health.active_primary_shards, 'every index has a replica (auto-expanded on two data nodes)');
      const search = `${service.url}/counters?size=1`;
      await searchable(search, counters);
      const { master, primaries } = await layout(client, config);
      say(`${counters} counters written; master: node ${master}; primaries: ${primaries.join(', ')}`);

      let killedAt = 0;
      const result = await runSearchLoad({
        url: search, rate: 50, seconds: 30, expectedTotal: counters,
        fault: { at: 10, inject: async () => { await killNode(cluster, master); killedAt = Date.now(); say(`SIGKILL elasticsearch node ${master} (the master)`); } },
      });
      const killSecond = (killedAt - result.startedAt) / 1000;
      const after = result.failed.filter(({ at }) => at >= killedAt - result.startedAt);
      const what = [...new Set(result.failed.map((failure) => failure.what))].join('; ');
      say(`${result.sent} searches, ${result.failed.length} failed (${result.failed.length - after.length} before the kill at ${killSecond} s, ${after.length} after${after.length > 0 ? `, the last at ${Math.max(...after.map(({ at }) => at)) / 1000} s` : ''}${what === '' ? '' : `: ${what}`}), ${result.incomplete.length} incomplete`);
      say(`complete answers per second: ${result.perSecond.join(' ')}`);
      say(`longest stretch without an answer after the kill: ${result.silenceSince(killedAt)} ms (goal 5000)`);
      assert.deepEqual(result.incomplete, [], 'every answer has every counter written');
      assert.ok(result.perSecond.slice(-5).every((count) => count > 0), 'searches answer again after the kill');
    } finally {
      await service?.stop();
      await client.close();
      await cluster.remove();
    }
  });
});
