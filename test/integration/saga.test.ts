/**
 * The fulfilment saga end to end against the stack: a gateway and a command
 * processor in this process, the saga as its own `strata start --role saga` process
 * sending through the gateway's gRPC CommandService. Many orders compete for scarce
 * stock; the event log must show no product oversold, every order settled, every
 * cancelled order's reservations released and no saga command applied twice, also
 * with the saga process SIGKILLed repeatedly; and a deadline set before a kill fires
 * after the restart.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { packageRoot } from '../../shared/package-files.js';
import { decodeEvent, eventHeaders, headerValue, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { createRedis } from '../../shared/redis-client.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { writeSideTopics } from '../../shared/topics.js';
import { freePorts } from '../../infra/stack/ports.js';
import { seededRandom } from '../../shared/seeded-random.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';
import shop from '../../examples/shop/app.js';

const env = { ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-saga'), STRATA_PARTITIONS: '3', STRATA_SESSION_TIMEOUT_MS: '6000' };
const config = loadConfig(env);
const log = createLogClient(config, { clientId: 'strata-test', logger });

const events = async (): Promise<EventEnvelope[]> =>
  (await readWholeTopic(log, writeSideTopics(config).events, { partitions: 3 })).map((message) => decodeEvent(message));

/** The invariants of fulfilment, checked on the event log; returns the orders' outcomes. */
function checkFulfilment(log: readonly EventEnvelope[], orderIds: readonly string[]): Map<string, string> {
  const streams = new Map<string, EventEnvelope[]>();
  for (const event of log) streams.set(event.aggregateId, [...(streams.get(event.aggregateId) ?? []), event]);
  // No product oversold: along each product's history, reservations held never exceed what was restocked.
  for (const [sku, stream] of streams) {
    if (stream[0]?.aggregateType !== 'Product') continue;
    let restocked = 0;
    let held = 0;
    for (const event of [...stream].sort((a, b) => a.version - b.version)) {
      const data = event.data as { quantity: number };
      if (event.type === 'ProductRestocked') restocked += data.quantity;
      if (event.type === 'StockReserved') held += data.quantity;
      if (event.type === 'StockReleased') held -= data.quantity;
      assert.ok(held <= restocked && held >= 0, `${sku} holds ${String(held)} of ${String(restocked)} after v${String(event.version)}`);
    }
  }
  const reservations = (type: string) =>
    new Set(log.filter((event) => event.type === type).map((event) => `${event.aggregateId}|${(event.data as { orderId: string }).orderId}`));
  const reserved = reservations('StockReserved');
  const released = reservations('StockReleased');
  const outcomes = new Map<string, string>();
  for (const orderId of orderIds) {
    const last = (streams.get(orderId) ?? []).at(-1);
    assert.ok(last?.type === 'OrderConfirmed' || last?.type === 'OrderCancelled', `${orderId} is settled (${last?.type ?? 'no events'})`);
    const held = [...reserved].filter((key) => key.endsWith(`|${orderId}`));
    if (last.type === 'OrderCancelled') {
      for (const key of held) assert.ok(released.has(key), `cancelled ${orderId}: ${key} released`);
      outcomes.set(orderId, `cancelled:${(last.data as { reason: string }).reason}`);
    } else {
      const lines = (last.data as { lines: { sku: string }[] }).lines;
      for (const line of lines) assert.ok(reserved.has(`${line.sku}|${orderId}`) && !released.has(`${line.sku}|${orderId}`), `confirmed ${orderId}: ${line.sku} held`);
      outcomes.set(orderId, 'confirmed');
    }
  }
  // No saga command applied twice: each of its command ids produced one event, once.
  const bySagaCommand = new Map<string, number>();
  for (const event of log) if (event.commandId.startsWith('saga-')) bySagaCommand.set(event.commandId, (bySagaCommand.get(event.commandId) ?? 0) + 1);
  assert.ok(bySagaCommand.size > 0, 'the saga sent commands');
  for (const [commandId, count] of bySagaCommand) assert.equal(count, 1, `${commandId} applied ${String(count)} times`);
  return outcomes;
}

describe('fulfilment saga', () => {
  let gateway: Gateway;
  let processor: CommandProcessor;
  let saga: ChildProcess | undefined;
  let sagaEnv: NodeJS.ProcessEnv;
  const random = seededRandom(8);
  const redis = createRedis(config);

  const post = async (type: string, aggregateId: string, data: unknown) => {
    const response = await fetch(`${gateway.url}/commands/${type}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aggregateId, data }) });
    assert.equal(response.status, 200, `${type} ${aggregateId}: ${await response.text()}`);
  };

  /** Starts a saga process; resolves once it consumes (its "saga running" log line). */
  async function startSaga(settleMs: number): Promise<void> {
    const child = spawn(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'start', '--role', 'saga', '--no-stack'], {
      env: { ...sagaEnv, SHOP_SETTLE_MS: String(settleMs) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    saga = child;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    for (let waited = 0; !output.includes('"saga running"'); waited += 100) {
      assert.ok(waited < 60_000 && child.exitCode === null, `the saga process did not start: ${output}`);
      await sleep(100);
    }
  }

  async function killSaga(): Promise<void> {
    const child = saga;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Places `count` orders at once over `skus`, 1–3 lines of 1–4 units each. */
  async function placeOrders(prefix: string, count: number, skus: readonly string[]): Promise<string[]> {
    const orders = Array.from({ length: count }, (_, index) => {
      const chosen = [...skus].sort(() => random() - 0.5).slice(0, 1 + Math.floor(random() * 3));
      return { id: `${prefix}-${String(index)}`, lines: chosen.map((sku) => ({ sku, quantity: 1 + Math.floor(random() * 4), unitPriceCents: 500 })) };
    });
    await Promise.all(orders.map((order) => post('PlaceOrder', order.id, { customerId: 'c-1', lines: order.lines, currency: 'EUR' })));
    return orders.map((order) => order.id);
  }

  async function untilSettled(orderIds: readonly string[], timeoutMs: number): Promise<EventEnvelope[]> {
    for (const deadline = Date.now() + timeoutMs; ; ) {
      const log = await events();
      const last = new Map(log.map((event) => [event.aggregateId, event.type]));
      if (orderIds.every((id) => ['OrderConfirmed', 'OrderCancelled'].includes(last.get(id) ?? ''))) {
        await sleep(1_000); // late releases of reservations granted after the saga gave up
        return events();
      }
      assert.ok(Date.now() < deadline, `orders not settled: ${orderIds.filter((id) => !['OrderConfirmed', 'OrderCancelled'].includes(last.get(id) ?? '')).join(', ')}`);
      await sleep(500);
    }
  }

  async function stockUp(prefix: string, count: number, units: number): Promise<string[]> {
    const skus = Array.from({ length: count }, (_, index) => `${prefix}-sku-${String(index)}`);
    for (const sku of skus) {
      await post('RegisterProduct', sku, { name: sku, description: '', priceCents: 500, currency: 'EUR', tags: [] });
      await post('RestockProduct', sku, { quantity: units });
    }
    return skus;
  }

  before(async () => {
    const [grpcPort = 0, metricsPort = 0] = await freePorts(2);
    gateway = await startGateway({ log, config, domain: shop.domain, logger, port: 0, grpcPort });
    processor = await startCommandProcessor({ log, config, domain: shop.domain, logger });
    sagaEnv = { ...env, STRATA_SAGA_COMMAND_SERVICE: `127.0.0.1:${String(grpcPort)}`, STRATA_SAGA_METRICS_PORT: String(metricsPort), STRATA_LOG_LEVEL: 'info' };
  });

  after(async () => {
    redis.disconnect();
    await killSaga();
    await gateway.stop();
    await processor.stop();
  });

  it('settles many orders competing for scarce stock: none oversold, cancelled ones released, nothing applied twice', { timeout: 180_000 }, async () => {
    await startSaga(60_000);
    const skus = await stockUp('calm', 4, 12);
    const orderIds = await placeOrders('calm', 40, skus);
    const outcomes = checkFulfilment(await untilSettled(orderIds, 120_000), orderIds);
    const counts = [...outcomes.values()].reduce<Record<string, number>>((sum, outcome) => ({ ...sum, [outcome]: (sum[outcome] ?? 0) + 1 }), {});
    assert.ok((counts.confirmed ?? 0) > 0 && (counts['cancelled:out_of_stock'] ?? 0) > 0, `both outcomes happen: ${JSON.stringify(counts)}`);
  });

  it('keeps the invariants with the saga process SIGKILLed again and again', { timeout: 240_000 }, async () => {
    const skus = await stockUp('killed', 4, 12);
    // A wave of orders right before each kill: a saga that settles forty orders within a
    // second would otherwise be killed with nothing left to do.
    const orderIds: string[] = [];
    const unsettledAtKills: number[] = [];
    for (let kill = 0; kill < 3; kill++) {
      orderIds.push(...(await placeOrders(`killed-${String(kill)}`, 15, skus)));
      await killSaga();
      // With no saga process running, what is unsettled now was unsettled at the kill.
      const last = new Map((await events()).map((event) => [event.aggregateId, event.type]));
      unsettledAtKills.push(orderIds.filter((id) => !['OrderConfirmed', 'OrderCancelled'].includes(last.get(id) ?? '')).length);
      await startSaga(60_000);
    }
    assert.ok(unsettledAtKills.some((unsettled) => unsettled > 0), `a kill came mid-way (orders unsettled at each kill: ${unsettledAtKills.join(', ')})`);
    checkFulfilment(await untilSettled(orderIds, 180_000), orderIds);
  });

  it("sends its commands in the trace of the event that caused them", { timeout: 60_000 }, async () => {
    const [sku] = await stockUp('traced', 1, 5);
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${gateway.url}/commands/PlaceOrder`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ aggregateId: 'traced-1', data: { customerId: 'c-1', lines: [{ sku, quantity: 1, unitPriceCents: 500 }], currency: 'EUR' } }),
    });
    assert.equal(response.status, 200);
    await untilSettled(['traced-1'], 30_000);
    // Every event the saga's commands produced for the order carries the order's trace.
    const messages = await readWholeTopic(log, writeSideTopics(config).events, { partitions: 3 });
    const caused = messages.filter((message) => {
      const event = decodeEvent(message);
      return event.commandId.startsWith('saga-') && (event.aggregateId === 'traced-1' || (event.data as { orderId?: string }).orderId === 'traced-1');
    });
    assert.deepEqual(caused.map((message) => decodeEvent(message).type).sort(), ['OrderConfirmed', 'StockReserved']);
    for (const message of caused) assert.equal(headerValue(message.headers, eventHeaders.traceparent)?.split('-')[1], traceId, decodeEvent(message).type);
    // And the saga's own spans are in that trace, in Zipkin.
    for (let waited = 0; ; waited += 500) {
      const spans = await fetch(`${config.zipkin.url}/api/v2/trace/${traceId}`).then(async (reply) => (reply.ok ? ((await reply.json()) as { name: string; localEndpoint?: { serviceName?: string } }[]) : []));
      const sagaSpans = spans.filter((span) => span.localEndpoint?.serviceName === 'strata-saga').map((span) => span.name);
      if (sagaSpans.includes('saga fulfilment orderplaced') && sagaSpans.includes('saga fulfilment stockreserved')) break;
      assert.ok(waited < 30_000, `the saga's spans reach Zipkin: ${JSON.stringify(sagaSpans)}`);
      await sleep(500);
    }
  });

  it('fires a deadline set before the saga process was killed, after it restarts', { timeout: 120_000 }, async () => {
    await killSaga();
    await startSaga(3_000);
    // A line whose product does not exist: its reservation is refused without an event, so only the deadline settles the order.
    await post('PlaceOrder', 'late-1', { customerId: 'c-1', lines: [{ sku: 'no-such-product', quantity: 1, unitPriceCents: 500 }], currency: 'EUR' });
    for (let waited = 0; ; waited += 100) {
      const log = await events();
      if (log.some((event) => event.aggregateId === 'late-1' && event.type === 'OrderPlaced')) break;
      assert.ok(waited < 30_000);
      await sleep(100);
    }
    for (let waited = 0; (await redis.zscore(`${config.topics.prefix}:saga:fulfilment:deadlines`, 'default/late-1\nsettle')) === null; waited += 100) {
      assert.ok(waited < 30_000, 'the saga set the deadline');
      await sleep(100);
    }
    await killSaga();
    await sleep(4_000); // the deadline passes while no saga process runs
    const before = (await events()).filter((event) => event.aggregateId === 'late-1').map((event) => event.type);
    assert.deepEqual(before, ['OrderPlaced'], 'nothing settled the order while the saga was down');
    await startSaga(3_000);
    const log = await untilSettled(['late-1'], 60_000);
    const cancelled = log.find((event) => event.aggregateId === 'late-1' && event.type === 'OrderCancelled');
    assert.equal((cancelled?.data as { reason?: string } | undefined)?.reason, 'timeout');
  });
});
