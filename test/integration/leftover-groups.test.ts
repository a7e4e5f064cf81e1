/**
 * Nothing left behind on the broker: followers (the gateway's outcome listener, event
 * tails, any `follow()`) read without a consumer group, and `strata doctor` lists what
 * the prefix owns and removes the empty groups older versions left.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { groupMember } from '../../shared/kafka/group-settings.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import type { ConsumedBatch, FollowOptions } from '../../shared/kafka/log-client.js';
import { packageRoot } from '../../shared/package-files.js';
import { deleteWriteSideTopics, ensureWriteSideTopics } from '../../shared/topics.js';
import { tailEvents } from '../../write-side/event-log.js';
import { startGateway } from '../../write-side/gateway/gateway.js';
import counterApp from '../apps/counter-app.js';
import { logger, uniqueName } from '../support/test-context.js';

const prefix = uniqueName('test-leftovers');
const config = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: prefix, STRATA_PARTITIONS: '2' });
const log = createLogClient(config, { clientId: 'strata-test', logger });
const topic = `${prefix}.follow-test`;

const prefixGroups = () => log.withAdmin(async (admin) => (await admin.listGroups()).filter((group) => group.startsWith(`${prefix}.`)).sort());

const strata = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), ...args], { env: { ...process.env, STRATA_TOPIC_PREFIX: prefix } });
  return JSON.parse(stdout) as { topics: string[]; groups: { group: string; kind: string; members: number; leftover: boolean }[]; deleted?: string[]; notDeleted?: unknown[] };
};

/** A follower that collects each partition's record values. */
async function collect(from: FollowOptions['topics'][number]['from']) {
  const values: string[] = [];
  const batches: ConsumedBatch[] = [];
  const follower = await log.follow({
    name: 'test',
    topics: [{ topic, from }],
    maxWaitMs: 200,
    onBatch: (batch) => {
      batches.push(batch);
      for (const record of batch.records) values.push(`${String(batch.partition)}:${record.value?.toString() ?? ''}`);
    },
  });
  return { values, batches, follower };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('nothing left behind', () => {
  before(async () => {
    await ensureWriteSideTopics(log, config);
    await log.withAdmin((admin) => admin.createMissingTopics([{ topic, partitions: 2 }]));
  });

  after(async () => {
    await log.withAdmin(async (admin) => {
      await admin.deleteGroups(await prefixGroups()).catch(() => undefined);
      await admin.deleteTopics([topic]);
    });
    await deleteWriteSideTopics(log, config);
  });

  it('a gateway started and stopped leaves no consumer group of its prefix', async () => {
    const gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    assert.deepEqual(await prefixGroups(), [], 'none while it runs either');
    await gateway.stop();
    assert.deepEqual(await prefixGroups(), []);
  });

  it('an event tail that follows uses no consumer group', async () => {
    const stop = new AbortController();
    let ready: () => void = () => undefined;
    const positioned = new Promise<void>((resolve) => { ready = resolve; });
    const tail = tailEvents({ log, config, fromBeginning: true, follow: true, filter: {}, onEvent: () => undefined, onReady: () => { ready(); }, signal: stop.signal });
    await positioned;
    assert.deepEqual(await prefixGroups(), []);
    stop.abort();
    await tail;
    assert.deepEqual(await prefixGroups(), []);
  });

  it('follow() reads from the beginning, the end or given offsets, read_committed only, in no group', { timeout: 60_000 }, async () => {
    const producer = await log.producer();
    await producer.send(topic, [
      { key: null, value: 'a', partition: 0 }, { key: null, value: 'b', partition: 0 },
      { key: null, value: 'c', partition: 1 }, { key: null, value: 'd', partition: 1 },
    ]);
    const transactional = await log.transactionalProducer({ transactionalId: `${prefix}.test-tx`, transactionTimeoutMs: 10_000 });
    await transactional.fence();
    const aborted = await transactional.begin();
    await aborted.append(topic, [{ key: null, value: 'aborted', partition: 0 }]);
    await aborted.abort();

    const fromBeginning = await collect('beginning');
    const fromEnd = await collect('end');
    const fromOffsets = await collect([{ partition: 0, from: 1n }, { partition: 1, from: 2n }]);
    assert.deepEqual(await prefixGroups(), [], 'no group while they run');

    const committed = await transactional.begin();
    await committed.append(topic, [{ key: null, value: 'e', partition: 0 }, { key: null, value: 'f', partition: 1 }]);
    await committed.commit();
    for (const { values } of [fromBeginning, fromEnd, fromOffsets]) await until(() => values.includes('0:e') && values.includes('1:f'), 'the committed records');

    assert.deepEqual(fromBeginning.values.sort(), ['0:a', '0:b', '0:e', '1:c', '1:d', '1:f']);
    assert.deepEqual(fromEnd.values.sort(), ['0:e', '1:f']);
    assert.deepEqual(fromOffsets.values.sort(), ['0:b', '0:e', '1:f']);
    // Past the commit marker: a caught-up follower has no lag.
    const last = fromEnd.batches.filter(({ partition }) => partition === 0).at(-1);
    assert.equal(last?.next, last?.highWatermark);

    for (const { follower } of [fromBeginning, fromEnd, fromOffsets]) await follower.stop();
    await transactional.stop();
    await producer.stop();
    assert.deepEqual(await prefixGroups(), []);
  });

  it('`strata doctor` lists the prefix, flags empty leftovers and deletes only those', { timeout: 60_000 }, async () => {
    const leftovers = [`${prefix}.gateway-${randomUUID()}`, `${prefix}.dead-letter-view-${randomUUID()}`];
    const processors = `${prefix}.command-processors`;
    // Each joins, commits once and leaves, as a follower of an older version did.
    await log.withAdmin(async (admin) => {
      await Promise.all([...leftovers, processors].map((group) => admin.setCommittedOffsets(group, topic, [{ partition: 0, from: 0n }])));
    });
    const live = `${prefix}.gateway-${randomUUID()}`;
    const member = log.groupConsumer({ ...groupMember(config, live), topics: [{ topic, fromBeginning: true }], onBatch: () => Promise.resolve() });
    await member.start();
    try {
      const listed = await strata('doctor', '--json');
      assert.ok(listed.topics.includes(topic) && listed.topics.includes(`${prefix}.events`), JSON.stringify(listed.topics));
      const byName = new Map(listed.groups.map((group) => [group.group, group]));
      assert.deepEqual([...byName.keys()].sort(), [...leftovers, processors, live].sort());
      for (const group of leftovers) assert.deepEqual(byName.get(group), { group, kind: 'throwaway', members: 0, leftover: true });
      assert.deepEqual(byName.get(processors), { group: processors, kind: 'processors', members: 0, leftover: false });
      assert.deepEqual(byName.get(live), { group: live, kind: 'throwaway', members: 1, leftover: false });

      const cleaned = await strata('doctor', '--delete-leftovers', '--json');
      assert.deepEqual(cleaned.deleted?.sort(), [...leftovers].sort());
      assert.deepEqual(cleaned.notDeleted, []);
      assert.deepEqual(await prefixGroups(), [processors, live].sort());
    } finally {
      await member.stop();
    }
  });
});
