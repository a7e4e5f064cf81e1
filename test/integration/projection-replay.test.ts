/**
 * Blue-green replays against the real stack: a projection rebuilt into a new
 * version while events keep arriving and queries keep being answered, swapped live,
 * then equal to a from-scratch fold of the whole log; a replay killed with SIGKILL
 * half-way that resumes from its checkpoint; the operator commands' JSON.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { packageRoot } from '../../shared/package-files.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import type { EventEnvelope } from '../../shared/event-envelope.js';
import { OperatorError } from '../../shared/errors.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { createRedis } from '../../shared/redis-client.js';
import { createProjectionCatalogue } from '../../projections/projection-catalogue.js';
import { projectionProgress, totalLag } from '../../projections/projection-progress.js';
import { replayClientId, replayProjection, type ReplayResult } from '../../projections/projection-replay.js';
import { dropVersion, projectionStatus } from '../../projections/projection-status.js';
import type { Projection } from '../../projections/projection.js';
import { startProjector, type Projector } from '../../projections/projector.js';
import { startQueryService, type QueryService } from '../../read-side/query-service.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { dumpReadModel, expectedReadModel } from '../support/read-model-dump.js';
import { appendEvents, openEventAppender } from '../../bench/event-appender.js';
import { shopEvents } from '../../examples/shop/bench/event-log.js';
import { caughtUp } from '../support/projection-wait.js';
import { logger, uniqueName } from '../support/test-context.js';
import shop from '../../examples/shop/app.js';

const env = { ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-replay'), STRATA_PARTITIONS: '2' };
const config = loadConfig(env);
const log = createLogClient(config, { clientId: 'strata-test', logger });
const replayLog = createLogClient(config, { clientId: replayClientId, logger });
const definition = (name: string): Projection => {
  const found = shop.projections.find((projection) => projection.name === name);
  assert.ok(found);
  return found;
};

describe('projection replay', () => {
  const generated = shopEvents({ seed: 5, products: 300, customers: 40 });
  const appended: EventEnvelope[] = [];
  const take = (count: number) => Array.from({ length: count }, () => generated.next().value);
  const redis = createRedis(config);
  const elasticsearch = createElasticsearch(config);
  let projector: Projector;
  let query: QueryService;

  const replay = (name: string, extra: Partial<Parameters<typeof replayProjection>[0]> = {}) =>
    replayProjection({ log: replayLog, config, logger, definitions: shop.projections, events: shop.domain.events, name, onProgress: () => undefined, signal: new AbortController().signal, ...extra });

  /** After the replay, with the writes stopped: the new version equals a fold of everything appended. */
  async function assertEqualsFold(projection: Projection): Promise<void> {
    await caughtUp(log, config, [projection], 120_000);
    const expected = expectedReadModel(projection, appended);
    for (let attempt = 0; ; attempt++) {
      const actual = await dumpReadModel(config, projection, { redis, elasticsearch });
      try {
        assert.deepEqual(actual, expected);
        return;
      } catch (error) {
        // Elasticsearch documents become visible at the next refresh.
        if (attempt >= 10) throw error;
        await sleep(300);
      }
    }
  }

  before(async () => {
    await ensureWriteSideTopics(log, config);
    const initial = take(60_000);
    await appendEvents(log, writeSideTopics(config).events, initial);
    appended.push(...initial);
    projector = await startProjector({ log, config, logger, projections: shop.projections, events: shop.domain.events });
    query = await startQueryService({ config, logger, queries: shop.queries, port: 0, grpcPort: 0 });
    await caughtUp(log, config, shop.projections, 180_000);
  });

  after(async () => {
    await query.stop();
    await projector.stop();
    redis.disconnect();
    await elasticsearch.close();
  });

  it('rebuilds Redis and Elasticsearch read models beside the live ones under writes, swaps them with no failed read, and equals a fold', { timeout: 240_000 }, async () => {
    const orderIds = [...new Set(appended.filter((event) => event.type === 'OrderPlaced').map((event) => event.aggregateId))].slice(0, 200);
    const customers = [...new Set(appended.filter((event) => event.type === 'OrderPlaced').map((event) => (event.data as { customerId: string }).customerId))].slice(0, 20);
    const running = { writing: true, reading: true };
    const writer = (async () => {
      const appender = await openEventAppender(log, writeSideTopics(config).events);
      while (running.writing) {
        const events = take(100);
        await appender.append(events);
        appended.push(...events);
        await sleep(50);
      }
      await appender.close();
    })();
    const failures: string[] = [];
    let reads = 0;
    const reader = (async () => {
      for (let i = 0; running.reading; i++) {
        const orderId = orderIds[i % orderIds.length] ?? '';
        const byId = await fetch(`${query.url}/orders/${orderId}`);
        const body = (await byId.json()) as { orderId?: string };
        if (byId.status !== 200 || body.orderId !== orderId) failures.push(`GET /orders/${orderId}: ${String(byId.status)}`);
        const customerId = customers[i % customers.length] ?? '';
        const search = await fetch(`${query.url}/orders?customerId=${customerId}`);
        const hits = (await search.json()) as { orders?: unknown[] };
        if (search.status !== 200 || (hits.orders?.length ?? 0) === 0) failures.push(`GET /orders?customerId=${customerId}: ${String(search.status)} ${String(hits.orders?.length)}`);
        reads += 2;
      }
    })();

    const results: ReplayResult[] = [];
    try {
      for (const name of ['order-details', 'order-search']) {
        const result = await replay(name);
        assert.ok(result, `${name} replayed`);
        results.push(result);
      }
    } finally {
      await sleep(1_000);
      running.reading = false;
      running.writing = false;
      await Promise.all([reader, writer]);
    }
    assert.deepEqual(failures, [], 'no read failed or came back empty during the replays and swaps');
    assert.ok(reads > 100, `the query loop ran throughout (${String(reads)} reads)`);
    for (const result of results) {
      assert.equal(result.version, 2, 'the same definition rebuilt as version 2');
      assert.equal(result.previousLive, 1);
      assert.equal(result.resumed, false);
      assert.equal(result.handedOver, true, 'the running projector took the new version over');
      await assertEqualsFold({ ...definition(result.name), version: 2 });
    }

    // status: v2 live and fed, v1 kept and stopped; the CLI's --json carries the documented fields.
    const [details] = await projectionStatus({ log, config, definitions: shop.projections, names: ['order-details'], sampleMs: 0 });
    assert.equal(details?.live, 2);
    assert.deepEqual(details.versions.map((version) => [version.version, version.state, version.live]), [[1, 'stopped', false], [2, 'live', true]]);
    const cli = spawnSync(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'projections', 'status', 'order-search', '--json', '--sample', '200'], { env, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const parsed = JSON.parse(cli.stdout) as { projections: Record<string, unknown>[] };
    const [search] = parsed.projections;
    assert.deepEqual(Object.keys(search ?? {}).sort(), ['definitions', 'description', 'live', 'name', 'store', 'versions']);
    const versions = (search?.versions ?? []) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(versions[0] ?? {}).sort(), ['consumers', 'definition', 'eventsPerSecond', 'group', 'lag', 'live', 'partitions', 'state', 'storage', 'version']);
    assert.deepEqual(Object.keys((versions[0]?.partitions as Record<string, unknown>[])[0] ?? {}).sort(), ['checkpoint', 'committed', 'end', 'lag', 'partition']);
    const list = spawnSync(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'projections', 'list', '--json'], { env, encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { projections: { name: string }[] }).projections.map((projection) => projection.name), [...new Set(shop.projections.map((projection) => projection.name))]);

    // drop: the live version is refused; the old one goes, keys and group.
    await assert.rejects(dropVersion({ log, config, definitions: shop.projections, name: 'order-details', version: 2 }), (error: unknown) => error instanceof OperatorError && error.kind === 'conflict');
    await dropVersion({ log, config, definitions: shop.projections, name: 'order-details', version: 1 });
    assert.deepEqual(await redis.keys(`${config.topics.prefix}:order-details:v1:*`), []);
    const unknown = spawnSync(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'projections', 'replay', 'no-such-projection'], { env, encoding: 'utf8' });
    assert.equal(unknown.status, 2, 'an unknown projection is a usage error');
    assert.match(unknown.stderr, /unknown projection no-such-projection[\s\S]*known projections: order-details/);
  });

  it('resumes a replay killed with SIGKILL half-way from its checkpoint, and refuses a second one while it runs', { timeout: 240_000 }, async () => {
    const projection = definition('product-stock');
    const catalogue = createProjectionCatalogue(config);
    try {
      // A pause before each commit keeps the killed replay half-way for long enough to strike.
      const child = spawn(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'projections', 'replay', projection.name], {
        env: { ...env, STRATA_TEST_PAUSE_BEFORE_COMMIT_MS: '1500' },
        stdio: 'ignore',
      });
      let target: number | undefined;
      let committedAtKill = 0n;
      for (const deadline = Date.now() + 60_000; ; ) {
        assert.ok(Date.now() < deadline, 'the replay committed a first batch');
        await sleep(25);
        target ??= await catalogue.replayTarget(projection.name);
        if (target === undefined) continue;
        const progress = await log.withAdmin((admin) => projectionProgress(admin, config, { ...projection, version: target ?? 0 }));
        committedAtKill = progress.reduce((sum, entry) => sum + entry.committed, 0n);
        if (committedAtKill > 0n) {
          assert.ok(totalLag(progress) > 0n, 'killed half-way, not at the end');
          break;
        }
      }
      await assert.rejects(replay(projection.name), (error: unknown) => error instanceof OperatorError && error.kind === 'conflict', 'a second replay is refused');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(await catalogue.liveVersion(projection), 1, 'nothing swapped');

      // Run again: once the dead replay's claim has expired, it resumes where the checkpoint is.
      let result: ReplayResult | undefined;
      for (const deadline = Date.now() + 30_000; result === undefined; ) {
        try {
          result = await replay(projection.name);
        } catch (error) {
          if (!(error instanceof OperatorError && error.kind === 'conflict') || Date.now() > deadline) throw error;
          await sleep(500);
        }
      }
      assert.equal(result.resumed, true);
      assert.equal(result.version, target);
      assert.ok(result.startedAt >= committedAtKill, `resumed at ${result.startedAt.toString()}, not 0 (killed at ${committedAtKill.toString()})`);
      assert.equal(await catalogue.liveVersion(projection), target);
      await assertEqualsFold({ ...projection, version: result.version });
    } finally {
      await catalogue.close();
    }
  });
});
