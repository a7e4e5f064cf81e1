/**
 * The read API end to end against the real stack: writes through the gateway read
 * back with their consistency token on the first try; searches over a generated
 * shop of thousands of orders and products compared page by page with a brute-force
 * answer; cursors, hostile input, ETags; gRPC answering as HTTP does; two instances
 * side by side; and Redis stopped under the service and started again.
 */
import { defaultTenant } from '../../shared/auth/principal.js';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../../shared/config.js';
import { internalSecret } from '../../shared/auth/internal-credential.js';
import { consistencyTokens } from '../../shared/consistency-token.js';
import { decodeEvent } from '../../shared/event-envelope.js';
import { loadService } from '../../shared/grpc-server.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { startProjector, type Projector } from '../../projections/projector.js';
import { orderSearch } from '../../examples/shop/orders/order-search.js';
import { productCatalogue } from '../../examples/shop/products/product-catalogue.js';
import { queryProtoOptions, queryServiceName, queryServiceProto } from '../../read-side/grpc-query-service.js';
import { startQueryService, type QueryService } from '../../read-side/query-service.js';
import type { OrderSearchParams as OrderSearchQuery } from '../../examples/shop/orders/queries.js';
import { tagFacetSize, type ProductSearchParams as ProductSearchQuery } from '../../examples/shop/products/queries.js';
import { down, selectServers, up } from '../../infra/stack/stack.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { caughtUp } from '../support/projection-wait.js';
import { expectedReadModel } from '../support/read-model-dump.js';
import { expectedOrderSearch, expectedProductSearch, type CatalogueDocument, type OrderDocument } from '../support/search-oracle.js';
import { appendEvents, takeFirst } from '../../bench/event-appender.js';
import { shopEvents } from '../../examples/shop/bench/event-log.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';
import shop from '../../examples/shop/app.js';

const config = loadConfig({
  ...process.env,
  STRATA_TOPIC_PREFIX: uniqueName('test-query'),
  STRATA_PARTITIONS: '2',
  STRATA_CONSISTENCY_WAIT_MS: '1500',
  STRATA_BREAKER_RESET_MS: '1000',
  STRATA_PROJECTOR_RETRY_MAX_MS: '500',
});
const log = createLogClient(config, { clientId: 'strata-test', logger });
const seed = 11;

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(`${base}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const queryString = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([name, value]): [string, string][] => (value === undefined ? [] : [[name, String(value)]])),
  ).toString();

/** Every page of a search, following nextCursor; each page must agree on the totals. */
async function allPages(base: string, route: '/orders' | '/products', params: Record<string, string | number | undefined>) {
  const ids: string[] = [];
  let first: Record<string, unknown> | undefined;
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const reply = await get(base, `${route}?${queryString({ ...params, cursor })}`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const items = (route === '/orders' ? reply.body.orders : reply.body.products) as Record<string, unknown>[];
    assert.ok(items.length <= Number(params.size ?? 20), 'a page holds at most size hits');
    ids.push(...items.map((item) => String(route === '/orders' ? item.orderId : item.sku)));
    const { orders: _o, products: _p, nextCursor, ...totals } = reply.body;
    first ??= totals;
    assert.deepEqual(totals, first, 'every page reports the same totals and facets');
    if (nextCursor === null) return { ids, totals: first };
    assert.equal(items.length, Number(params.size ?? 20), 'only the last page is short');
    cursor = nextCursor as string;
  }
  throw new Error('too many pages');
}

describe('query service', { timeout: 600_000 }, () => {
  let gateway: Gateway;
  let processor: CommandProcessor;
  let projector: Projector;
  let service: QueryService;
  let second: QueryService;
  const read = (path: string, headers?: Record<string, string>) => get(service.url, path, headers);

  const post = async (type: string, aggregateId: string, data: unknown) => {
    const response = await fetch(`${gateway.url}/commands/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ aggregateId, data }),
    });
    const body = (await response.json()) as { consistencyToken: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    return { 'x-consistency-token': body.consistencyToken };
  };

  before(async () => {
    await ensureWriteSideTopics(log, config);
    // A shop of 1,200 products and several thousand orders, straight into the events topic.
    await appendEvents(log, writeSideTopics(config).events, takeFirst(30_000, shopEvents({ seed, products: 1200, customers: 60 })));
    processor = await startCommandProcessor({ log, config, domain: shop.domain, logger });
    gateway = await startGateway({ log, config, domain: shop.domain, logger, port: 0, grpcPort: 0 });
    projector = await startProjector({ log, config, logger, projections: shop.projections, events: shop.domain.events });
    service = await startQueryService({ config, logger, queries: shop.queries, port: 0, grpcPort: 0 });
    second = await startQueryService({ config, logger, queries: shop.queries, port: 0, grpcPort: 0 });
    await caughtUp(log, config, shop.projections, 180_000);
  });

  after(async () => {
    await second.stop();
    await service.stop();
    await projector.stop();
    await gateway.stop();
    await processor.stop();
  });

  it('shows a write on the first read given its consistency token, on Redis and Elasticsearch routes alike', async () => {
    for (let i = 0; i < 5; i++) {
      const sku = `ryw-${String(i)}`;
      const word = `zephyr${String(i)}x`;
      const customerId = `ryw-customer-${String(i)}`;
      const orderId = `ryw-order-${String(i)}`;

      let token = await post('RegisterProduct', sku, { name: `Lamp ${word}`, description: 'new', priceCents: 900, currency: 'EUR', tags: ['ryw'] });
      assert.equal((await read(`/products/${sku}`, token)).body.name, `Lamp ${word}`);
      assert.deepEqual(((await read(`/products?q=${word}`, token)).body.products as { sku: string }[]).map((p) => p.sku), [sku]);

      // Enough units to rank among the best sellers of the generated shop.
      token = await post('RestockProduct', sku, { quantity: 100_000 });
      assert.equal((await read(`/products/${sku}`, token)).body.onHand, 100_000);

      token = await post('PlaceOrder', orderId, { customerId, currency: 'EUR', lines: [{ sku, quantity: 50_000 + i, unitPriceCents: 900 }] });
      assert.equal((await read(`/orders/${orderId}`, token)).body.status, 'placed');
      assert.deepEqual(((await read(`/customers/${customerId}/orders`, token)).body.orders as { orderId: string }[]).map((o) => o.orderId), [orderId]);
      assert.equal((await read(`/orders?customerId=${customerId}`, token)).body.total, 1);

      token = await post('ConfirmOrder', orderId, {});
      const confirmed = await read(`/orders/${orderId}`, token);
      assert.equal(confirmed.body.status, 'confirmed');
      assert.equal(confirmed.body.version, 2);
      assert.equal((await read(`/orders?customerId=${customerId}&status=confirmed`, token)).body.total, 1);
      const top = (await read('/products/top?limit=100', token)).body.products as { sku: string; units: number }[];
      assert.deepEqual(top.find((entry) => entry.sku === sku), { sku, units: 50_000 + i });
    }
  });

  it('answers 503 with Retry-After, not stale data, when the read model does not reach the token in time', async () => {
    // Signed as a processor signs it: a write the read model has not reached.
    const unreachable = { 'x-consistency-token': consistencyTokens(internalSecret(config)).encode(defaultTenant, { 0: '999999999999' }) };
    for (const path of ['/products/ryw-0', '/orders?q=anything']) {
      const started = Date.now();
      const reply = await read(path, unreachable);
      const waited = Date.now() - started;
      assert.equal(reply.status, 503, JSON.stringify(reply.body));
      assert.equal(reply.body.type, 'https://strata.dev/problems/consistency-timeout');
      assert.equal(reply.headers.get('retry-after'), '1');
      assert.ok(waited >= 1400 && waited < 3000, `waited ${String(waited)} ms for a 1500 ms bound`);
    }
  });

  it("lets a tenant keep only its share of reads waiting (429 at once beyond it), and the others theirs", async () => {
    const bounded = await startQueryService({ config: { ...config, readSide: { ...config.readSide, maxWaiting: { total: 3, perTenant: 2 } } }, logger, queries: shop.queries, port: 0, grpcPort: 0 });
    try {
      const waitFor = (tenant: string) => ({ 'strata-tenant': tenant, 'x-consistency-token': consistencyTokens(internalSecret(config)).encode(tenant, { 0: '999999999999' }) });
      const started = Date.now();
      const waiting = [get(bounded.url, '/products/ryw-0', waitFor('acme')), get(bounded.url, '/products/ryw-0', waitFor('acme'))];
      await sleep(200);
      const over = await get(bounded.url, '/products/ryw-0', waitFor('acme'));
      assert.equal(over.status, 429, JSON.stringify(over.body));
      assert.equal(over.headers.get('retry-after'), '1');
      assert.ok(Date.now() - started < 1000, 'refused at once, not after a wait');
      waiting.push(get(bounded.url, '/products/ryw-0', waitFor('globex')));
      await sleep(200);
      assert.equal((await get(bounded.url, '/products/ryw-0', waitFor('initech'))).status, 503, 'over the total');
      assert.deepEqual((await Promise.all(waiting)).map(({ status }) => status), [503, 503, 503], 'the ones let in waited their bound');
    } finally {
      await bounded.stop();
    }
  });

  it('searches exactly as a brute-force filter over the same data, across pages, without duplicates or gaps', async () => {
    const history = (await readWholeTopic(log, writeSideTopics(config).events, { partitions: 2 })).map((message) =>
      decodeEvent(message),
    );
    const documents = <T>(dump: Record<string, unknown>) =>
      Object.values(dump).map((entry) => {
        const { version, document } = entry as { version: number; document: object };
        return { ...document, version } as T;
      });
    const orders = documents<OrderDocument>(expectedReadModel(orderSearch, history));
    const products = documents<CatalogueDocument>(expectedReadModel(productCatalogue, history));
    assert.ok(orders.length > 3000 && products.length > 1000, `${String(orders.length)} orders, ${String(products.length)} products`);

    const byPlacement = orders.map((order) => order.placedAt).sort();
    const placedFrom = byPlacement[Math.floor(byPlacement.length * 0.25)];
    const placedTo = byPlacement[Math.floor(byPlacement.length * 0.6)];
    const anOrder = orders[42] as OrderDocument;
    const aSku = `sku-${String(seed)}-7`;
    const orderQueries: OrderSearchQuery[] = [
      {},
      { status: 'cancelled' },
      { customerId: 'customer-3' },
      { customerId: 'customer-3', status: 'shipped' },
      { sku: aSku },
      { sku: aSku, status: 'confirmed' },
      { placedFrom, placedTo },
      { placedFrom, status: 'placed' },
      { placedTo, customerId: 'customer-12' },
      { q: 'out_of_stock' },
      { q: 'customer-7', status: 'cancelled' },
      { q: `"${anOrder.orderId}"` },
      { q: aSku, placedFrom },
      { q: 'nothing-matches-this' },
    ];
    for (const [index, query] of orderQueries.entries()) {
      const size = [7, 100, 20][index % 3] as number;
      const expected = expectedOrderSearch(orders, query);
      const actual = await allPages(service.url, '/orders', { ...query, size });
      assert.equal(new Set(actual.ids).size, actual.ids.length, `${JSON.stringify(query)}: no order twice`);
      assert.deepEqual(actual.ids, expected.ids, `${JSON.stringify(query)}: the same orders in the same order`);
      assert.equal(actual.totals.total, expected.ids.length);
      assert.deepEqual(actual.totals.statusCounts, expected.statusCounts, `${JSON.stringify(query)}: counts by status`);
    }

    const productQueries: ProductSearchQuery[] = [
      {},
      { tag: 'sale' },
      { minPriceCents: 2000, maxPriceCents: 5000 },
      { minPriceCents: 2000, tag: 'garden' },
      { q: 'blue mug' },
      { q: 'lamp', tag: 'garden' },
      { q: 'kite', minPriceCents: 5000 },
      { q: aSku },
    ];
    for (const [index, query] of productQueries.entries()) {
      const size = [13, 100][index % 2] as number;
      const expected = expectedProductSearch(products, query, tagFacetSize);
      const actual = await allPages(service.url, '/products', { ...query, size });
      assert.equal(new Set(actual.ids).size, actual.ids.length, `${JSON.stringify(query)}: no product twice`);
      // By name without q; by relevance with q, where only the set of hits is specified.
      if (query.q === undefined) assert.deepEqual(actual.ids, expected.ids, `${JSON.stringify(query)}: the same products in the same order`);
      else assert.deepEqual([...actual.ids].sort(), [...expected.ids].sort(), `${JSON.stringify(query)}: the same products`);
      assert.equal(actual.totals.total, expected.ids.length);
      assert.deepEqual(actual.totals.tagCounts, expected.tagCounts, `${JSON.stringify(query)}: tag facets`);
    }
  });

  it('refuses altered, forged and misplaced cursors; a cursor works on any instance', async () => {
    const first = (await read('/orders?status=shipped&size=5')).body;
    const cursor = String(first.nextCursor);
    const [payload = '', signature = ''] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify([0, 'order-0'])).toString('base64url');
    for (const bad of [
      `${payload}x.${signature}`,
      `${forged}.${signature}`,
      `${payload}.${signature.slice(0, -2)}AA`,
      'not-a-cursor',
      `${payload}.${signature}.${signature}`,
    ]) {
      const reply = await read(`/orders?status=shipped&size=5&cursor=${encodeURIComponent(bad)}`);
      assert.equal(reply.status, 400, bad);
      assert.equal(reply.body.field, 'cursor');
    }
    assert.equal((await read(`/orders?status=cancelled&size=5&cursor=${cursor}`)).status, 400, 'another filter');
    assert.equal((await read(`/products?size=5&cursor=${cursor}`)).status, 400, 'another route');
    const here = await read(`/orders?status=shipped&size=5&cursor=${cursor}`);
    const there = await get(second.url, `/orders?status=shipped&size=5&cursor=${cursor}`);
    assert.equal(here.status, 200);
    assert.deepEqual(there.body, here.body);
  });

  it('answers bad input with a 400 or 404 problem naming the parameter, never a 500; free text is literal', async () => {
    const long = 'x'.repeat(5000);
    const cases: [string, number, string?][] = [
      ['/nowhere', 404],
      ['/orders/no-such-order', 404],
      ['/products/no-such-sku', 404],
      [`/orders/${encodeURIComponent('bad id')}`, 400, 'orderId'],
      [`/orders/${encodeURIComponent('注文-é')}`, 400, 'orderId'],
      [`/orders/${long}`, 400, 'orderId'],
      ['/orders/%E0%A4%A', 400, 'path'],
      [`/customers/${encodeURIComponent("' OR 1=1 --")}/orders`, 400, 'customerId'],
      ['/customers/alice/orders?limit=0', 400, 'limit'],
      ['/products/top?limit=1000', 400, 'limit'],
      ['/products/top?limit=ten', 400, 'limit'],
      ['/orders?size=0', 400, 'size'],
      ['/orders?size=101', 400, 'size'],
      ['/orders?size=1.5', 400, 'size'],
      ['/orders?size=1&size=2', 400, 'size'],
      ['/orders?status=lost', 400, 'status'],
      ['/orders?stauts=placed', 400, 'stauts'],
      ['/orders/ryw-order-0?colour=red', 400, 'colour'],
      ['/orders?placedFrom=yesterday', 400, 'placedFrom'],
      ['/orders?placedTo=2026-13-45T99:00:00Z', 400, 'placedTo'],
      [`/orders?customerId=${encodeURIComponent('{"match_all":{}}')}`, 400, 'customerId'],
      [`/orders?q=${'q'.repeat(201)}`, 400, 'q'],
      ['/orders?q=', 400, 'q'],
      ['/orders?cursor=%24%7Bjndi%7D', 400, 'cursor'],
      ['/products?minPriceCents=-1', 400, 'minPriceCents'],
      ['/products?maxPriceCents=1e99', 400, 'maxPriceCents'],
      ['/products?tag=Bad_Tag', 400, 'tag'],
      [`/products?tag=${encodeURIComponent('*')}`, 400, 'tag'],
    ];
    for (const [path, status, field] of cases) {
      const reply = await read(path);
      assert.equal(reply.status, status, `${path.slice(0, 80)}: ${JSON.stringify(reply.body).slice(0, 300)}`);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
      if (field !== undefined) assert.equal(reply.body.field, field, path.slice(0, 80));
      assert.doesNotMatch(JSON.stringify(reply.body), /at .*\.js:\d+/, 'no stack trace');
    }
    const issued = consistencyTokens(internalSecret(config));
    const unsigned = Buffer.from(JSON.stringify({ v: 2, t: defaultTenant, o: { 0: '999999999999' } })).toString('base64url');
    const forged = consistencyTokens(new TextEncoder().encode('a key of my own')).encode(defaultTenant, { 0: '999999999999' });
    const altered = `${Buffer.from(JSON.stringify({ v: 3, t: defaultTenant, o: { 0: '999999999999' } })).toString('base64url')}.${issued.encode(defaultTenant, { 0: '1' }).split('.')[1] ?? ''}`;
    for (const token of ['!!!', 'e30', issued.encode(defaultTenant, { 7: '1' }), issued.encode('acme', { 0: '1' }), Buffer.from('{"v":1,"o":{"0":"-1"}}').toString('base64url'), unsigned, forged, altered]) {
      const reply = await read('/orders/no-such-order', { 'x-consistency-token': token });
      assert.equal(reply.status, 400, token);
      assert.equal(reply.body.field, 'X-Consistency-Token');
    }

    // Query syntax, scripts and JSON in q are words to look for, nothing more.
    const total = async (q: string) => {
      const reply = await read(`/orders?${queryString({ q })}`);
      assert.equal(reply.status, 200, `${q}: ${JSON.stringify(reply.body)}`);
      return reply.body.total;
    };
    assert.equal(await total('*'), 0, 'a wildcard matches nothing literal');
    assert.equal(await total('status:placed'), 0, 'no field syntax');
    assert.equal(await total('placed OR cancelled OR shipped'), 0, 'no boolean syntax');
    assert.equal(await total('{"script":{"source":"ctx._source"}}'), 0);
    assert.equal(await total('注文 ✓ 😀 \u0000'), 0);
    assert.equal(await total(`"order-${String(seed)}-42" AND *`), 0, 'quotes and operators are not syntax');
    assert.ok(Number(await total(`"order-${String(seed)}-42"`)) >= 1, 'quotes around words still find them');
  });

  it('answers 304 to If-None-Match while a read model is unchanged, and a new ETag once it changes', async () => {
    const first = await read('/orders/ryw-order-0');
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^".+"$/);
    const unchanged = await read('/orders/ryw-order-0', { 'if-none-match': etag });
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.headers.get('etag'), etag);
    const search = await read('/orders?customerId=ryw-customer-0');
    assert.equal((await read('/orders?customerId=ryw-customer-0', { 'if-none-match': search.headers.get('etag') ?? '' })).status, 304);

    const token = await post('ShipOrder', 'ryw-order-0', {});
    const changed = await read('/orders/ryw-order-0', { ...token, 'if-none-match': etag });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.status, 'shipped');
    assert.notEqual(changed.headers.get('etag'), etag);
    const searched = await read('/orders?customerId=ryw-customer-0', { ...token, 'if-none-match': search.headers.get('etag') ?? '' });
    assert.equal(searched.status, 200);
  });

  it('answers the same queries identically over gRPC and HTTP', async () => {
    const Client = loadService(queryServiceProto, queryServiceName, queryProtoOptions);
    const client = new Client(`127.0.0.1:${String(service.grpcPort)}`, grpc.credentials.createInsecure());
    const call = (method: string, request: object, metadata = new grpc.Metadata()) =>
      new Promise<{ error?: grpc.ServiceError; answer?: Record<string, unknown> }>((resolve) => {
        (client[method] as (r: object, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, a: Record<string, unknown>) => void) => void).call(
          client,
          request,
          metadata,
          (error, answer) => { resolve(error ? { error } : { answer }); },
        );
      });
    const query = async (name: string, params: object, metadata?: grpc.Metadata) => {
      const { error, answer } = await call('Query', { name, paramsJson: JSON.stringify(params) }, metadata);
      return { error, answer: answer === undefined ? undefined : (JSON.parse(String(answer.answerJson)) as unknown) };
    };
    try {
      const shipped = await read('/orders?status=shipped&size=3');
      const cursor = String(shipped.body.nextCursor);
      const pairs: [string, object, string][] = [
        ['getOrder', { orderId: `order-${String(seed)}-42` }, `/orders/order-${String(seed)}-42`],
        ['getOrder', { orderId: 'ryw-order-1' }, '/orders/ryw-order-1'],
        ['getCustomerOrders', { customerId: 'customer-3', limit: 7 }, '/customers/customer-3/orders?limit=7'],
        ['getCustomerOrders', { customerId: 'nobody' }, '/customers/nobody/orders'],
        ['getProduct', { sku: `sku-${String(seed)}-7` }, `/products/sku-${String(seed)}-7`],
        ['getTopProducts', {}, '/products/top'],
        ['getTopProducts', { limit: 25 }, '/products/top?limit=25'],
        ['searchOrders', { customerId: 'customer-3', size: 5 }, '/orders?customerId=customer-3&size=5'],
        ['searchOrders', { status: 'shipped', size: 3, cursor }, `/orders?status=shipped&size=3&cursor=${cursor}`],
        ['searchOrders', { q: 'out_of_stock', placedFrom: '2026-01-01T00:00:00Z' }, '/orders?q=out_of_stock&placedFrom=2026-01-01T00:00:00Z'],
        ['searchProducts', { q: 'blue', size: 5 }, '/products?q=blue&size=5'],
        ['searchProducts', { tag: 'sale', minPriceCents: 1000 }, '/products?tag=sale&minPriceCents=1000'],
      ];
      for (const [name, params, path] of pairs) {
        const [overGrpc, overHttp] = await Promise.all([query(name, params), read(path)]);
        assert.equal(overHttp.status, 200, path);
        assert.equal(overGrpc.error, undefined, `${name}: ${String(overGrpc.error?.details)}`);
        assert.deepStrictEqual(overGrpc.answer, overHttp.body, `${name} ${JSON.stringify(params)}`);
      }
      const refused = await query('searchOrders', { size: 500 });
      assert.equal(refused.error?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal((JSON.parse(String(refused.error.metadata.get('problem-json')[0])) as { field: string }).field, 'size');
      assert.equal((await query('searchOrders', { colour: 'red' })).error?.code, grpc.status.INVALID_ARGUMENT, 'an unknown parameter');
      assert.equal((await query('getOrder', { orderId: 'no-such-order' })).error?.code, grpc.status.NOT_FOUND);
      assert.equal((await query('noSuchQuery', {})).error?.code, grpc.status.NOT_FOUND);
      assert.equal((await call('Query', { name: 'getOrder', paramsJson: '{not json' })).error?.code, grpc.status.INVALID_ARGUMENT);
      const token = new grpc.Metadata();
      token.set('x-consistency-token', 'not a token');
      assert.equal((await query('getProduct', { sku: 'ryw-0' }, token)).error?.code, grpc.status.INVALID_ARGUMENT);
      const described = await call('Describe', {});
      const names = (described.answer?.queries as { name: string }[]).map((entry) => entry.name);
      assert.deepEqual(names.sort(), shop.queries.map((entry) => entry.name).sort());
    } finally {
      client.close();
    }
  });

  it('documents every read route in OpenAPI and reports breaker states in /readyz', async () => {
    const paths = Object.keys((await read('/docs/json')).body.paths as object);
    for (const route of ['/orders/{orderId}', '/customers/{customerId}/orders', '/products/{sku}', '/products/top', '/orders', '/products']) {
      assert.ok(paths.includes(route), `${route} in ${paths.join(', ')}`);
    }
    assert.deepEqual((await read('/readyz')).body, { status: 'ready', breakers: { redis: 'closed', elasticsearch: 'closed' } });
    assert.equal((await read('/healthz')).status, 200);
  });

  it('fails by-key reads fast with 503 and Retry-After while Redis is down, and recovers without a restart', async () => {
    const before = await read('/products/ryw-1');
    assert.equal(before.status, 200);
    const redisServer = selectServers(config, ['redis']);
    await down(config, redisServer, { purge: false }, { step: () => undefined, detail: () => undefined });
    try {
      // Failed reads until the breaker opens: failures must outnumber the successes of its 10 s window.
      const opening = Date.now() + 20_000;
      while ((await read('/readyz')).status === 200) {
        assert.ok(Date.now() < opening, 'the Redis breaker opens');
        assert.equal((await read('/products/ryw-1')).status, 503);
        await sleep(20);
      }
      const readiness = await read('/readyz');
      assert.equal(readiness.status, 503);
      assert.deepEqual(readiness.body.breakers, { redis: 'open', elasticsearch: 'closed' });
      for (const path of ['/products/ryw-1', '/orders/ryw-order-1', '/customers/ryw-customer-1/orders', '/products/top']) {
        const started = performance.now();
        const reply = await read(path);
        const took = performance.now() - started;
        assert.equal(reply.status, 503, path);
        assert.ok(Number(reply.headers.get('retry-after')) >= 1, `${path}: Retry-After`);
        assert.equal(reply.body.type, 'https://strata.dev/problems/unavailable');
        assert.ok(took < 100, `${path} answered in ${took.toFixed(1)} ms`);
      }
      assert.equal((await read('/products?q=blue')).status, 200, 'Elasticsearch routes keep answering');
    } finally {
      await up(config, redisServer, { step: () => undefined, detail: () => undefined });
    }
    const deadline = Date.now() + 30_000;
    let after = await read('/products/ryw-1');
    while (after.status !== 200 && Date.now() < deadline) {
      await sleep(200);
      after = await read('/products/ryw-1');
    }
    assert.equal(after.status, 200, 'reads recover once Redis is back');
    assert.deepEqual(after.body, before.body);
    assert.equal((await read('/readyz')).status, 200);
  });
});
