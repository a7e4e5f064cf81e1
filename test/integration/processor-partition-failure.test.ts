/**
 * One partition that cannot be rebuilt does not take the others down: a snapshots
 * partition holding a record that is not a snapshot (corruption, a foreign writer)
 * makes that partition's rebuild fail, again and again, each time saying why in the
 * log and in `strata processors status`, while the other partition serves commands;
 * a command for the broken partition gets a 503 problem, and nothing is sent.
 */
import { defaultTenant } from '../../shared/auth/principal.js';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { deleteWriteSideTopics, ensureWriteSideTopics, partitionOfAggregate, writeSideTopics } from '../../shared/topics.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { processorStatus } from '../../write-side/processor-status.js';
import { logger, uniqueName } from '../support/test-context.js';
import counterApp, { counters } from '../apps/counter-app.js';

const config = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-broken'), STRATA_PARTITIONS: '2', STRATA_COMMAND_TIMEOUT_MS: '2000' });
const log = createLogClient(config, { clientId: 'strata-test', logger });
/** The first counter id of the form counter-N on `partition`. */
const counterOn = (partition: number) => {
  for (let n = 0; ; n++) if (partitionOfAggregate(defaultTenant, `counter-${String(n)}`, 2) === partition) return `counter-${String(n)}`;
};

describe('a partition that cannot be rebuilt', () => {
  let processor: CommandProcessor | undefined;
  let gateway: Gateway | undefined;

  before(async () => {
    await ensureWriteSideTopics(log, config);
    const producer = await log.producer();
    await producer.send(writeSideTopics(config).snapshots, [{ key: `${counters.type}:x`, value: 'not a snapshot', partition: 1 }]);
    await producer.stop();
    gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
  });
  after(async () => {
    await processor?.stop();
    await gateway?.stop();
    await deleteWriteSideTopics(log, config);
  });

  it('fails alone, says why, and leaves the other partition serving', { timeout: 60_000 }, async () => {
    const url = gateway?.url ?? '';
    const deadline = Date.now() + 30_000;
    let unserved: number[] = [];
    while (Date.now() < deadline) {
      unserved = ((await (await fetch(`${url}/readyz`)).json()) as { unservedPartitions: number[] }).unservedPartitions;
      if (unserved.length === 1) break;
      await sleep(100);
    }
    assert.deepEqual(unserved, [1], 'partition 0 served, partition 1 not');

    const post = (counter: string) =>
      fetch(`${url}/commands/Increment`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aggregateId: counter, data: { by: 1, label: counter } }),
      });
    assert.equal((await post(counterOn(0))).status, 200, 'the healthy partition serves');
    const refused = await post(counterOn(1));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { type: string }).type, 'https://strata.dev/problems/unavailable');

    const broken = (await processorStatus(log, config)).find((report) => report.partition === 1);
    assert.ok(broken);
    assert.equal(broken.serving, false);
    assert.match(broken.status?.error ?? '', /JSON/, `the status says why: ${JSON.stringify(broken.status)}`);
    const healthy = (await processorStatus(log, config)).find((report) => report.partition === 0);
    assert.equal(healthy?.status?.phase, 'serving');
  });
});
