/**
 * Events that evolve, against the stack: a log written under the shop's v1
 * definitions (ProductRegistered with `priceCents` and `currency`, StockReserved with
 * `available`, OrderPlaced without a channel; appended as the old build wrote them),
 * with a snapshot the old build took, is then run by today's shop (v2 of them). The
 * processor refuses the old snapshot and refolds, versions go on gapless, a command on
 * an old aggregate sees the upcast state, the read models equal a fold of the upcast
 * log, and `aggregate show` at an old version shows the upcast state; `events tail
 * --raw` still shows what is stored; the event schemas of the log are published to
 * their topic. A dead letter the old build wrote is retried as read today, and a saga
 * given old events (the old build still writing during a rolling deploy) sees them as
 * read today.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { defaultTenant } from '../../shared/auth/principal.js';
import { loadConfig } from '../../shared/config.js';
import { packageRoot } from '../../shared/package-files.js';
import { decodeEvent, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { createRedis } from '../../shared/redis-client.js';
import { deleteWriteSideTopics, ensureWriteSideTopics, partitionOfAggregate, writeSideTopics } from '../../shared/topics.js';
import { scoped } from '../../shared/auth/tenants.js';
import { createEventCatalog } from '../../shared/event-schemas.js';
import { readDeadLetters } from '../../projections/dead-letter-log.js';
import { retryDeadLetters } from '../../projections/dead-letter-retry.js';
import { testEvent } from '../../projections/given-when-then.js';
import { defineRedisProjection } from '../../projections/projection.js';
import { startProjector, type Projector } from '../../projections/projector.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { checkpointKey, streamKey } from '../../write-side/command-processor/partition-state.js';
import { encodeCommand, decodeOutcome, type CommandOutcome } from '../../write-side/command-record.js';
import { aggregateAt, aggregateHistory } from '../../write-side/event-log.js';
import { reaction, type Saga } from '../../write-side/saga/process-manager.js';
import { startSagaRuntime } from '../../write-side/saga/saga-runtime.js';
import { createSagaStore } from '../../write-side/saga/saga-store.js';
import shop from '../../examples/shop/app.js';
import { appendEvents } from '../../bench/event-appender.js';
import { caughtUp } from '../support/projection-wait.js';
import { dumpReadModel, expectedReadModel } from '../support/read-model-dump.js';
import { readWholeTopic } from '../support/topic-reader.js';
import { logger, uniqueName } from '../support/test-context.js';

const env = { ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-evolution'), STRATA_PARTITIONS: '2' };
const config = loadConfig(env);
const topics = writeSideTopics(config);
const log = createLogClient(config, { clientId: 'strata-test', logger });

/** What the v1 build wrote: a product registered and restocked, an order placed and confirmed. */
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const v1Log: EventEnvelope[] = [
  { ...testEvent('Product', 'mug', 1, 'ProductRegistered', { name: 'Blue mug', description: 'Stoneware', priceCents: 1200, currency: 'EUR', tags: ['kitchen'] }, at(1)), schemaVersion: 1 },
  { ...testEvent('Product', 'mug', 2, 'ProductRestocked', { quantity: 10, onHand: 10 }, at(2)), schemaVersion: 1 },
  { ...testEvent('Order', 'order-1', 1, 'OrderPlaced', { customerId: 'ada', lines: [{ sku: 'mug', quantity: 2, unitPriceCents: 1200 }], currency: 'EUR', totalCents: 2400 }, at(3)), schemaVersion: 1 },
  { ...testEvent('Product', 'mug', 3, 'StockReserved', { orderId: 'order-1', quantity: 2, available: 8 }, at(4)), schemaVersion: 1 },
  { ...testEvent('Order', 'order-1', 2, 'OrderConfirmed', { lines: [{ sku: 'mug', quantity: 2, unitPriceCents: 1200 }] }, at(5)), schemaVersion: 1 },
];

/** An event as a reader was given it. */
const given = ({ type, schemaVersion, data }: EventEnvelope) => ({ type, schemaVersion, data });

/** A projection keeping the order events it is given, as given; with a bug on one order's. */
const orderWitness = (bugOn?: string) =>
  defineRedisProjection<{ seen: ReturnType<typeof given>[] }>({
    name: 'order-witness',
    version: 1,
    description: 'the order events it is given',
    store: 'redis',
    aggregateType: 'Order',
    eventTypes: ['OrderPlaced', 'OrderConfirmed', 'OrderShipped'],
    project(event, current) {
      if (event.aggregateId === bugOn) throw new Error(`bug: cannot handle ${bugOn}`);
      return { document: { seen: [...(current?.seen ?? []), given(event)] }, effects: [] };
    },
  });

/** A saga keeping the events of an order it is given, as given. */
const sagaWitness: Saga<ReturnType<typeof given>[]> = {
  name: 'witness',
  instanceOf: (event) => (event.aggregateType === 'Order' ? event.aggregateId : (event.data as { orderId?: string }).orderId),
  initialState: () => [],
  react: (seen, input) => reaction(input.kind === 'event' ? [...seen, given(input.event)] : seen),
};

describe('events that evolve', () => {
  let processor: CommandProcessor | undefined;
  let projector: Projector | undefined;
  const redis = createRedis(config);
  const elasticsearch = createElasticsearch(config);

  const logged = async () => (await readWholeTopic(log, topics.events, { partitions: 2 })).map((record) => decodeEvent(record));
  async function send(commandType: string, aggregateType: string, aggregateId: string, data: unknown): Promise<CommandOutcome> {
    const commandId = uniqueName('evolution');
    const producer = await log.producer();
    try {
      await producer.send(topics.commands, [
        encodeCommand({ commandId, commandType, tenant: defaultTenant, aggregateType, aggregateId, data, correlationId: commandId, submittedAt: new Date().toISOString() }),
      ]);
    } finally {
      await producer.stop();
    }
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
      const outcome = (await readWholeTopic(log, topics.results, { partitions: 2 })).map((record) => decodeOutcome(record)).find((candidate) => candidate.commandId === commandId);
      if (outcome !== undefined) return outcome;
    }
    throw new Error(`no outcome for ${commandType}`);
  }

  before(async () => {
    await ensureWriteSideTopics(log, config);
    await appendEvents(log, topics.events, v1Log);
    // The old build's snapshot of mug after its events, and a checkpoint past them: taken
    // under the v1 schemas (no eventSchemas), with a state an old evolve could have made.
    const partition = partitionOfAggregate(defaultTenant, 'mug', 2);
    const stream = { tenant: defaultTenant, aggregateType: 'Product', aggregateId: 'mug', version: 2, state: { status: 'registered', priceCents: 999_999, onHand: 10, held: {} }, recent: [] };
    const producer = await log.producer();
    try {
      await producer.send(topics.snapshots, [
        { key: streamKey(stream), value: JSON.stringify({ kind: 'stream', ...stream }), partition },
        { key: checkpointKey, value: JSON.stringify({ kind: 'checkpoint', eventsOffset: '1000' }), partition },
      ]);
    } finally {
      await producer.stop();
    }
    processor = await startCommandProcessor({ log, config, domain: shop.domain, logger });
    projector = await startProjector({ log, config, logger, projections: shop.projections, events: shop.domain.events });
  });

  after(async () => {
    await projector?.stop();
    await processor?.stop();
    await deleteWriteSideTopics(log, config);
    redis.disconnect();
    await elasticsearch.close();
  });

  it('refuses the old snapshot, goes on gapless on old aggregates, and decides on the upcast state', async () => {
    // The old snapshot's price (999,999) would show here as the previous price; the refolded v1 event's does.
    const repriced = await send('ChangeProductPrice', 'Product', 'mug', { priceCents: 900 });
    assert.equal(repriced.status, 'accepted', JSON.stringify(repriced));
    assert.equal(repriced.version, 4);
    const shipped = await send('ShipOrder', 'Order', 'order-1', {});
    assert.equal(shipped.status === 'accepted' && shipped.version, 3);

    const events = await logged();
    const mug = events.filter((event) => event.aggregateId === 'mug');
    assert.deepEqual(mug.map((event) => event.version), [1, 2, 3, 4]);
    assert.deepEqual(mug[3]?.data, { priceCents: 900, previousPriceCents: 1200 });
    // The v1 reservation, refolded, holds: order-1 cannot reserve mug twice.
    const twice = await send('ReserveStock', 'Product', 'mug', { orderId: 'order-1', quantity: 1 });
    assert.equal(twice.status === 'rejected' && twice.problem.rule, 'one-reservation-per-order', JSON.stringify(twice));
    // Written now: today's versions of their types.
    const placed = await send('PlaceOrder', 'Order', 'order-2', { customerId: 'bo', lines: [{ sku: 'mug', quantity: 1, unitPriceCents: 900 }], currency: 'EUR', channel: 'web' });
    assert.equal(placed.status, 'accepted');
    const registered = await send('RegisterProduct', 'Product', 'lamp', { name: 'Lamp', description: '', priceCents: 3000, currency: 'EUR', tags: [] });
    assert.equal(registered.status, 'accepted');
    const now = (await logged()).filter((event) => ['order-2', 'lamp'].includes(event.aggregateId));
    assert.deepEqual(now.map((event) => [event.type, event.schemaVersion]).sort(), [['OrderPlaced', 2], ['ProductRegistered', 2]]);
  });

  it('builds read models equal to a fold of the log as read today', async () => {
    await caughtUp(log, config, shop.projections);
    const upcast = (await logged()).map((event) => shop.domain.events.upcast(event));
    for (const projection of shop.projections) {
      assert.deepEqual(await dumpReadModel(config, projection, { redis, elasticsearch }), expectedReadModel(projection, upcast), projection.name);
    }
    const stock = JSON.parse((await redis.hget(`${config.topics.prefix}:product-stock:v1:doc:default/mug`, 'd')) ?? '{}') as { currency?: string; available?: number };
    assert.equal(stock.currency, 'EUR', "the v1 event's currency, read from v2's price");
    assert.equal(stock.available, 8, "the v1 reservation's `available`, read as v2's `availableAfter`");
  });

  it('shows an old version of an aggregate as read today, and the stored form on request', () => {
    const strata = (...args: string[]) => spawnSync(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), ...args], { env: { ...env, STRATA_AUTH: 'off' }, encoding: 'utf8' });
    const shown = strata('aggregate', 'show', 'mug', '--version', '1', '--json');
    assert.equal(shown.status, 0, shown.stderr);
    const view = JSON.parse(shown.stdout) as { state: { priceCents: number }; events: EventEnvelope[] };
    assert.equal(view.state.priceCents, 1200);
    assert.deepEqual([view.events[0]?.schemaVersion, view.events[0]?.data], [2, { name: 'Blue mug', description: 'Stoneware', price: { cents: 1200, currency: 'EUR' }, tags: ['kitchen'] }]);

    const raw = strata('events', 'tail', '--aggregate', 'mug', '--type', 'ProductRegistered', '--from-beginning', '--no-follow', '--json', '--raw');
    assert.equal(raw.status, 0, raw.stderr);
    assert.deepEqual((JSON.parse(raw.stdout) as { event: EventEnvelope }).event.data, v1Log[0]?.data);
    const read = strata('events', 'tail', '--aggregate', 'mug', '--type', 'ProductRegistered', '--from-beginning', '--no-follow', '--json');
    assert.equal((JSON.parse(read.stdout) as { event: EventEnvelope }).event.schemaVersion, 2);

    // The processor published the schemas of the log at start, for operators and other consumers.
    const published = strata('events', 'schemas', '--json');
    assert.equal(published.status, 0, published.stderr);
    const { schemas } = JSON.parse(published.stdout) as { schemas: { aggregateType: string; type: string; version: number; schema: { properties?: Record<string, unknown> } }[] };
    const registered = schemas.filter((entry) => entry.type === 'ProductRegistered');
    assert.deepEqual(registered.map((entry) => entry.version), [1, 2]);
    assert.ok(registered[1]?.schema.properties?.price !== undefined, "v2's schema, with its price");
    assert.equal(schemas.length, 15, 'every version of every event type of the shop');
  });

  it('folds the history the CLI reads the same way (aggregateAt over aggregateHistory)', async () => {
    const view = aggregateAt(shop.domain, await aggregateHistory(log, config, defaultTenant, 'order-1'));
    assert.deepEqual([view.version, (view.events[0]?.data as { channel?: string }).channel], [3, 'unknown']);
  });

  it('retries a dead letter the old build wrote as the event reads today', async () => {
    // The old build read every event as stored (no event types) and had a bug on order-1.
    const oldBuild = await startProjector({ log, config, logger, projections: [orderWitness('order-1')], events: createEventCatalog({}) });
    try {
      await caughtUp(log, config, [orderWitness()]);
    } finally {
      await oldBuild.stop();
    }
    const open = (await readDeadLetters(log, config)).entries().filter((entry) => entry.resolution === undefined);
    assert.deepEqual(open.map((entry) => [entry.letter.event?.type, entry.letter.event?.schemaVersion]), [['OrderPlaced', 1], ['OrderConfirmed', 1], ['OrderShipped', 1]]);

    // Today's build, the bug fixed, retries them.
    const outcomes = await retryDeadLetters({ log, config, definitions: [orderWitness()], events: shop.domain.events, ids: 'all' });
    assert.deepEqual(outcomes.map((entry) => entry.outcome), ['retried', 'retried', 'retried']);
    const upcast = (await logged()).map((event) => shop.domain.events.upcast(event));
    assert.deepEqual(await dumpReadModel(config, orderWitness(), { redis, elasticsearch }), expectedReadModel(orderWitness(), upcast));
  });

  it('gives a saga old events as they read today', async () => {
    const runtime = await startSagaRuntime({
      log,
      config,
      logger,
      saga: sagaWitness,
      sender: { send: () => Promise.reject(new Error('the witness sends nothing')), close: () => undefined },
      events: shop.domain.events,
    });
    try {
      // Written by an old build's processor still running during a rolling deploy.
      const placed = { ...testEvent('Order', 'order-3', 1, 'OrderPlaced', { customerId: 'cy', lines: [{ sku: 'mug', quantity: 1, unitPriceCents: 900 }], currency: 'EUR', totalCents: 900 }, at(6)), schemaVersion: 1 };
      const reserved = { ...testEvent('Product', 'mug', 5, 'StockReserved', { orderId: 'order-3', quantity: 1, available: 7 }, at(7)), schemaVersion: 1 };
      await appendEvents(log, topics.events, [placed, reserved]);
      const store = createSagaStore<ReturnType<typeof given>[]>(config, sagaWitness.name);
      let seen: ReturnType<typeof given>[] = [];
      try {
        for (const deadline = Date.now() + 30_000; seen.length < 2 && Date.now() < deadline; ) {
          await sleep(200);
          seen = (await store.load(scoped(defaultTenant, 'order-3')))?.state ?? [];
        }
      } finally {
        await store.close();
      }
      // Two aggregates, two partitions: the saga may be given them in either order.
      const byType = (events: ReturnType<typeof given>[]) => [...events].sort((a, b) => a.type.localeCompare(b.type));
      assert.deepEqual(byType(seen), byType([given(shop.domain.events.upcast(placed)), given(shop.domain.events.upcast(reserved))]));
      assert.deepEqual(seen.map((event) => event.schemaVersion), [2, 2]);
    } finally {
      await runtime.stop();
    }
  });
});
