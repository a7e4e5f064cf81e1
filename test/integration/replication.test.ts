/**
 * Replicated topics against the stack's single broker: with STRATA_REPLICATION_FACTOR
 * unset, Strata's topics get one replica and min.insync.replicas 1; asking for two is
 * refused before anything is created; `strata infra status` shows each topic's replicas.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { deadLetterTopic, ensureDeadLetterTopic } from '../../projections/dead-letters.js';
import { loadConfig } from '../../shared/config.js';
import { ConfigError } from '../../shared/errors.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { packageRoot } from '../../shared/package-files.js';
import { deleteWriteSideTopics, ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { logger, uniqueName } from '../support/test-context.js';

const envOf = (prefix: string, replicationFactor: string) => ({ ...process.env, STRATA_TOPIC_PREFIX: prefix, STRATA_PARTITIONS: '2', STRATA_REPLICATION_FACTOR: replicationFactor });

interface StatusRow {
  server: string;
  topics?: { topic: string; partitions: { partition: number; leader: number; replicas: number[]; inSync: number[] }[]; minInSync: number }[];
}

describe('replicated topics, on one broker', () => {
  const env = envOf(uniqueName('test-replication'), '');
  const config = loadConfig(env);
  const log = createLogClient(config, { clientId: 'strata-test', logger });
  const { commands, events, snapshots, results, status, eventSchemas } = writeSideTopics(config);
  const topics = [commands, events, snapshots, results, status, eventSchemas];

  after(async () => {
    await deleteWriteSideTopics(log, config);
    await log.withAdmin((admin) => admin.deleteTopics([deadLetterTopic(config)]));
  });

  it('gives every topic one replica and min.insync.replicas 1 when STRATA_REPLICATION_FACTOR is unset', async () => {
    assert.equal((await log.withAdmin((admin) => admin.describeCluster())).brokers.length, 1);
    await ensureWriteSideTopics(log, config);
    await ensureDeadLetterTopic(log, config);
    const found = await log.withAdmin((admin) => admin.replication([...topics, deadLetterTopic(config)]));
    assert.deepEqual(found.map(({ topic }) => topic).sort(), [...topics, deadLetterTopic(config)].sort());
    for (const { topic, partitions, minInSync } of found) {
      assert.equal(minInSync, 1, `${topic}'s min.insync.replicas`);
      for (const { replicas, inSync } of partitions) {
        assert.equal(replicas.length, 1, `${topic}'s replicas`);
        assert.equal(inSync.length, 1, `${topic}'s in-sync replicas`);
      }
    }
    await ensureWriteSideTopics(log, config);
  });

  it('refuses STRATA_REPLICATION_FACTOR=2, naming it and a topic, and creates nothing', async () => {
    const refused = loadConfig(envOf(uniqueName('test-replication-refused'), '2'));
    const refusedLog = createLogClient(refused, { clientId: 'strata-test', logger });
    await assert.rejects(ensureWriteSideTopics(refusedLog, refused), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /STRATA_REPLICATION_FACTOR="2"/);
      assert.match(error.message, new RegExp(`topic ${refused.topics.prefix}\\.`));
      assert.match(error.message, /1 broker/);
      return true;
    });
    await assert.rejects(ensureDeadLetterTopic(refusedLog, refused), /STRATA_REPLICATION_FACTOR/);
    const listed = await refusedLog.withAdmin((admin) => admin.listTopics());
    assert.deepEqual(listed.filter((topic) => topic.startsWith(`${refused.topics.prefix}.`)), []);
  });

  it('refuses an existing topic with fewer replicas than asked', async () => {
    // Asking for 2 on one broker: the topics all exist, so it is their replicas that are refused.
    const asked = loadConfig({ ...env, STRATA_REPLICATION_FACTOR: '2' });
    await assert.rejects(ensureWriteSideTopics(log, asked), /topic \S+ exists with 1 replica\(s\), fewer than 2/);
  });

  it('`strata infra status` lists each topic of the prefix with its replicas', () => {
    const strata = (...args: string[]) => spawnSync(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'infra', 'status', 'kafka', ...args], { env, encoding: 'utf8' });
    const json = strata('--json');
    assert.equal(json.status, 0, json.stderr);
    const kafka = (JSON.parse(json.stdout) as StatusRow[]).find((row) => row.server === 'kafka');
    const shown = kafka?.topics?.find(({ topic }) => topic === events);
    assert.deepEqual(shown, { topic: events, partitions: [0, 1].map((partition) => ({ partition, leader: 1, replicas: [1], inSync: [1] })), minInSync: 1 });
    assert.deepEqual(kafka?.topics?.map(({ topic }) => topic), [...topics, deadLetterTopic(config)].sort());

    const text = strata();
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /TOPIC\s+PARTITIONS\s+REPLICAS\s+IN-SYNC\s+MIN-IN-SYNC/);
    assert.match(text.stdout, new RegExp(`${events.replaceAll('.', '\\.')}\\s+2\\s+1\\s+1\\s+1\\n`));
  });
});
