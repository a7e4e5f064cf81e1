/**
 * The projector against the real stack, on the neutral test domain
 * (test/apps/counter-app.ts): its three read models (a Redis document per counter, a
 * Redis ranking with shared sorted sets, an Elasticsearch index) compared in full
 * with an in-memory fold of the event log (what one clean pass from offset 0 must
 * give), after redelivery, duplicates, SIGKILLs under load, a poison event and a
 * Redis outage.
 */
import { defaultTenant } from '../../shared/auth/principal.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { packageRoot } from '../../shared/package-files.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { decodeEvent, encodeEvent, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { createRedis } from '../../shared/redis-client.js';
import { decodeDeadLetter, deadLetterTopic } from '../../projections/dead-letters.js';
import type { Projection } from '../../projections/projection.js';
import { startProjector, type Projector } from '../../projections/projector.js';
import { projectionGroup } from '../../projections/projection-progress.js';
import { down, selectServers, up } from '../../infra/stack/stack.js';
import { ensureWriteSideTopics, partitionOfAggregate, writeSideTopics } from '../../shared/topics.js';
import { dumpReadModel, expectedReadModel } from '../support/read-model-dump.js';
import { counterEvents, takeCounterEvents } from '../support/counter-event-log.js';
import { appendEvents } from '../../bench/event-appender.js';
import { testEvent } from '../../projections/given-when-then.js';
import { caughtUp as waitUntilCaughtUp, projectionLag } from '../support/projection-wait.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';
import counterApp, { counterRanking, rankingKeys } from '../apps/counter-app.js';

const env = { ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-projector'), STRATA_PARTITIONS: '2', STRATA_PROJECTOR_RETRY_MAX_MS: '500' };
const config = loadConfig(env);
const topic = writeSideTopics(config).events;
const log = createLogClient(config, { clientId: 'strata-test', logger });
const redis = createRedis(config);
redis.on('error', () => undefined); // Redis is stopped on purpose below
const elasticsearch = createElasticsearch(config);
const quiet = { step: () => undefined, detail: () => undefined };
/** The compiled counter app, for the projector processes this test starts. */
const appModule = join(packageRoot, 'dist', 'test', 'apps', 'counter-app.js');
const redisProjections = counterApp.projections.filter((projection) => projection.store === 'redis');
const elasticsearchProjections = counterApp.projections.filter((projection) => projection.store === 'elasticsearch');

const lag = (projection: Projection) => projectionLag(log, config, projection);
const caughtUp = (projections: readonly Projection[], timeoutMs?: number) => waitUntilCaughtUp(log, config, projections, timeoutMs);

async function eventLog(): Promise<EventEnvelope[]> {
  const messages = await readWholeTopic(log, topic, { partitions: 2 });
  return messages.flatMap((message) => {
    try {
      return [decodeEvent(message)];
    } catch {
      return []; // malformed records are the dead letters' business
    }
  });
}

const dumps = (projections: readonly Projection[]) =>
  Promise.all(projections.map((projection) => dumpReadModel(config, projection, { redis, elasticsearch })));

/** Every read model equals the in-memory fold of the whole log. */
async function assertMatchesLog(projections: readonly Projection[] = counterApp.projections): Promise<void> {
  const log = await eventLog();
  const actual = await dumps(projections);
  projections.forEach((projection, index) => {
    const expected = expectedReadModel(projection, log);
    assert.ok(Object.keys(expected).length > 0, `${projection.name}: the log gives it something to hold`);
    assert.deepStrictEqual(actual[index], expected, `${projection.name} differs from a clean pass over the log`);
  });
}

async function resetToEarliest(projections: readonly Projection[]): Promise<void> {
  await log.withAdmin(async (admin) => {
    const starts = (await admin.offsets(topic)).map(({ partition, start }) => ({ partition, from: start }));
    for (const projection of projections) await admin.setCommittedOffsets(projectionGroup(config, projection), topic, starts);
  });
}

function spawnProjector(): ChildProcess {
  const child = spawn(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'start', '--role', 'projector', '--no-stack', '--app', appModule], {
    env: { ...env, STRATA_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.resume();
  return child;
}

describe('projector', { timeout: 600_000 }, () => {
  let projector: Projector | undefined;

  before(async () => {
    await ensureWriteSideTopics(log, config);
  });

  after(async () => {
    await projector?.stop();
    redis.disconnect();
    await elasticsearch.close();
  });

  it('builds all three read models as one clean pass would; redelivery and duplicate records change nothing', async () => {
    const events = takeCounterEvents(3000, { seed: 1, counters: 200 });
    await appendEvents(log, topic, events);
    projector = await startProjector({ log, config, logger, projections: counterApp.projections, events: counterApp.domain.events });
    await caughtUp(counterApp.projections);
    await assertMatchesLog();
    const first = await dumps(counterApp.projections);

    // The whole log delivered again from offset 0.
    await projector.stop();
    await resetToEarliest(counterApp.projections);
    projector = await startProjector({ log, config, logger, projections: counterApp.projections, events: counterApp.domain.events });
    await caughtUp(counterApp.projections);
    assert.deepStrictEqual(await dumps(counterApp.projections), first);

    // The same records written twice to the log (a producer retried without idempotence).
    await appendEvents(log, topic, events.slice(1000, 1500));
    await caughtUp(counterApp.projections);
    assert.deepStrictEqual(await dumps(counterApp.projections), first);
    await projector.stop();
    projector = undefined;
  });

  it('ends equal to a clean pass after projector processes are SIGKILLed under load', async () => {
    const generator = counterEvents({ seed: 2, counters: 150 });
    const stopWriting = new AbortController();
    const load = (async () => {
      while (!stopWriting.signal.aborted) {
        const chunk = Array.from({ length: 150 }, () => generator.next().value);
        await appendEvents(log, topic, chunk);
        await sleep(20);
      }
    })();
    let child = spawnProjector();
    try {
      for (let kill = 0; kill < 3; kill++) {
        await sleep(2500 + kill * 700);
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
        child = spawnProjector();
      }
      stopWriting.abort();
      await load;
      await caughtUp(counterApp.projections, 180_000);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      assert.deepStrictEqual((await exited).slice(0, 1), [0], 'SIGTERM stops the projector cleanly');
    } finally {
      stopWriting.abort();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await assertMatchesLog();
  });

  it('dead-letters a poison event with its details, and projects the events after it', async () => {
    projector = await startProjector({ log, config, logger, projections: counterApp.projections, events: counterApp.domain.events });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    // The ranking cannot take back what it never counted: it refuses a reset of a counter it does not hold.
    const poison = testEvent('Counter', 'never-incremented', 7, 'Reset', { from: 5 });
    const after = testEvent('Counter', 'incremented-after-poison', 1, 'Incremented', { by: 3, value: 3, label: 'after' });
    const producer = await log.producer();
    // All three share a key, hence a partition, in this order.
    const key = 'poison-key';
    await producer.send(topic, [
      { ...encodeEvent(poison, traceparent), key },
      { key, value: 'this is not an event' },
      { ...encodeEvent(after), key },
    ]);
    await producer.stop();
    await caughtUp(counterApp.projections);

    const letters = (await readWholeTopic(log, deadLetterTopic(config), { partitions: 1 })).map((message) =>
      decodeDeadLetter(message),
    );
    const poisonRecord = (await readWholeTopic(log, topic, { partitions: 2 })).find((record) => record.value?.toString().includes(poison.eventId));
    assert.ok(poisonRecord !== undefined);
    const poisonOffset = poisonRecord.offset.toString();
    const unapplied = letters.filter((letter) => letter.source.offset === poisonOffset);
    assert.deepStrictEqual(unapplied.map((letter) => letter.projection), ['counter-ranking'], 'only counter-ranking refuses the reset');
    const [letter] = unapplied;
    assert.equal(letter?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(letter.source.topic, topic);
    assert.equal(letter.source.partition, partitionOfAggregate(defaultTenant, key, 2));
    assert.equal(letter.event?.aggregateId, 'never-incremented');
    assert.match(letter.error.message, /does not hold/);

    const malformedOffset = String(BigInt(poisonOffset) + 1n);
    const malformed = letters.filter((entry) => entry.source.offset === malformedOffset);
    assert.deepStrictEqual(
      malformed.map((entry) => entry.projection).sort(),
      counterApp.projections.map((projection) => projection.name).sort(),
      'every projection reports the record it could not decode',
    );
    assert.ok(malformed.every((entry) => entry.rawValue === 'this is not an event' && entry.event === null));
    assert.equal(new Set(letters.map((entry) => entry.id)).size, letters.length, 'no dead letter twice');

    const ranked = await redis.hget(`${config.topics.prefix}:${counterRanking.name}:v1:doc:default/incremented-after-poison`, 'd');
    assert.equal((JSON.parse(ranked ?? '{}') as { counted?: number }).counted, 3, 'the event after the poison is projected');
    await assertMatchesLog();
    await projector.stop();
    projector = undefined;
  });

  it('waits out a Redis outage without skipping anything, then catches up', async () => {
    projector = await startProjector({ log, config, logger, projections: counterApp.projections, events: counterApp.domain.events });
    await caughtUp(counterApp.projections);
    const redisServer = selectServers(config, ['redis']);
    await down(config, redisServer, { purge: false }, quiet);
    try {
      const generator = counterEvents({ seed: 3, counters: 100 });
      await appendEvents(log, topic, Array.from({ length: 1000 }, () => generator.next().value));
      await caughtUp(elasticsearchProjections);
      const lagBefore = await lag(redisProjections[0] as Projection);
      await appendEvents(log, topic, Array.from({ length: 1000 }, () => generator.next().value));
      await sleep(2000);
      for (const projection of redisProjections) assert.ok((await lag(projection)) > 0n, `${projection.name} is behind while Redis is down`);
      assert.ok((await lag(redisProjections[0] as Projection)) > lagBefore, 'the lag grows while Redis is down');
    } finally {
      await up(config, redisServer, quiet);
    }
    await caughtUp(counterApp.projections);
    await assertMatchesLog();
    await projector.stop();
    projector = undefined;
  });

  it('stores a batch that folds tens of thousands of shared-key effects (a store call takes them as arrays, in bounded chunks)', async () => {
    // 4 counters, 10,000 increments each, appended before the projector starts: one
    // fetch brings thousands of events per counter, each with two effects.
    const counters = ['bulk-1', 'bulk-2', 'bulk-3', 'bulk-4'];
    const events = Array.from({ length: 10_000 }, (_, index) =>
      counters.map((id) => testEvent('Counter', id, index + 1, 'Incremented', { by: 2, value: 2 * (index + 1), label: id })),
    ).flat();
    await appendEvents(log, topic, events);
    projector = await startProjector({ log, config, logger, projections: [counterRanking], events: counterApp.domain.events });
    await caughtUp([counterRanking], 120_000);
    const byValue = `${config.topics.prefix}:${counterRanking.name}:v1:default/${rankingKeys.byValue}`;
    for (const id of counters) assert.equal(await redis.zscore(byValue, id), '20000', `${id} counted once per event`);
  });
});
