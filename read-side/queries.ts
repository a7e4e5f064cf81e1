/**
 * The queries of the read API, one function each, shared by HTTP and gRPC so both
 * answer alike. A query names the projection behind it; given a consistency
 * token, it first waits for that projection to pass the token's offsets. Every
 * store call goes through its backend's circuit breaker.
 *
 * Each answer has an ETag: by-id reads take it from the document's version (and the
 * projection version, which a replay changes); lists and searches from a digest of
 * what they answer, which changes exactly when one of its documents does.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config.js';
import { decodeConsistencyToken } from '../shared/consistency-token.js';
import { NotFoundError } from '../shared/errors.js';
import { projectionId, type Projection } from '../projections/projection.js';
import { customerOrdersKey, customerOrders as customerOrdersProjection } from '../projections/shop/customer-orders.js';
import { orderDetails } from '../projections/shop/order-details.js';
import { orderSearch } from '../projections/shop/order-search.js';
import { productCatalogue } from '../projections/shop/product-catalogue.js';
import { productStock } from '../projections/shop/product-stock.js';
import { topProducts as topProductsProjection, unitsKey } from '../projections/shop/top-products.js';
import type { BackendBreaker, BreakerState } from '../shared/backend-breaker.js';
import { checkpointWatch, type Checkpoints, type CheckpointWatch } from './checkpoint-watch.js';
import { elasticsearchReadModel, type SearchAnswer } from './elasticsearch-read-models.js';
import {
  orderStatuses,
  type CustomerOrders,
  type Order,
  type OrderSearchQuery,
  type OrderSearchResult,
  type Product,
  type ProductSearchQuery,
  type ProductSearchResult,
  type TopProducts,
} from './read-api.js';
import { redisReadModels, type VersionedDocument } from './redis-read-models.js';
import { decodeCursor, encodeCursor, queryBinding } from './search-cursor.js';
import { orderSearchRequest, productSearchRequest } from './search-requests.js';

export interface Answer<T> {
  body: T;
  etag: string;
}

/** What every query takes besides its own parameters. */
export interface ReadOptions {
  /** X-Consistency-Token: wait until the read model has this write. */
  consistencyToken?: string | undefined;
}

export interface Queries {
  order(orderId: string, options?: ReadOptions): Promise<Answer<Order>>;
  customerOrders(customerId: string, limit: number, options?: ReadOptions): Promise<Answer<CustomerOrders>>;
  product(sku: string, options?: ReadOptions): Promise<Answer<Product>>;
  topProducts(limit: number, options?: ReadOptions): Promise<Answer<TopProducts>>;
  searchOrders(query: OrderSearchQuery, options?: ReadOptions): Promise<Answer<OrderSearchResult>>;
  searchProducts(query: ProductSearchQuery, options?: ReadOptions): Promise<Answer<ProductSearchResult>>;
  breakerStates(): Record<string, BreakerState>;
  /**
   * Runs one search of each kind, outside the breakers and with a long timeout: a cold
   * Elasticsearch takes seconds over its first searches (the facets' global ordinals),
   * longer than a read may wait. Never fails: a store that is down or an index not yet
   * made has nothing to warm.
   */
  warmUp(): Promise<void>;
  stop(): void;
}

const warmUpTimeoutMs = 30_000;

const documentEtag = (liveVersion: number, version: number) => `"${String(liveVersion)}.${String(version)}"`;
const digestEtag = (body: unknown) => `"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 27)}"`;
const withVersion = ({ document, version }: VersionedDocument) => ({ ...document, version });

export function createQueries(deps: {
  config: Config;
  redis: Redis;
  elasticsearch: Client;
  breakers: { redis: BackendBreaker; elasticsearch: BackendBreaker };
}): Queries {
  const { config, breakers } = deps;
  const secret = config.readSide.cursorSecret;
  const redisModel = redisReadModels(deps.redis);
  const orders = redisModel(config, orderDetails);
  const customers = redisModel(config, customerOrdersProjection);
  const products = redisModel(config, productStock);
  const ranking = redisModel(config, topProductsProjection);
  const orderIndex = elasticsearchReadModel(deps.elasticsearch, config, orderSearch);
  const catalogue = elasticsearchReadModel(deps.elasticsearch, config, productCatalogue);

  const watches: CheckpointWatch[] = [];
  /** A read of `projection`'s store that first honours the consistency token. */
  function reader(projection: Projection, checkpoints: () => Promise<Checkpoints>) {
    const breaker = projection.store === 'redis' ? breakers.redis : breakers.elasticsearch;
    const watch = checkpointWatch({
      projection: projectionId(projection),
      partitions: config.topics.partitions,
      pollMs: config.readSide.consistencyPollMs,
      read: () => breaker.run(checkpoints),
    });
    watches.push(watch);
    return async <T>(options: ReadOptions | undefined, read: () => Promise<T>): Promise<T> => {
      const token = options?.consistencyToken;
      if (token !== undefined) await watch.waitFor(decodeConsistencyToken(token), config.readSide.consistencyWaitMs);
      return breaker.run(read);
    };
  }
  const readOrders = reader(orderDetails, () => orders.checkpoints());
  const readCustomers = reader(customerOrdersProjection, () => customers.checkpoints());
  const readProducts = reader(productStock, () => products.checkpoints());
  const readRanking = reader(topProductsProjection, () => ranking.checkpoints());
  const readOrderIndex = reader(orderSearch, () => orderIndex.checkpoints());
  const readCatalogue = reader(productCatalogue, () => catalogue.checkpoints());

  /** The next page's cursor, when the request's extra hit shows there is one. */
  const nextCursor = (answer: SearchAnswer, size: number, binding: string) => {
    const last = answer.hits[size - 1];
    return answer.hits.length > size && last !== undefined ? encodeCursor(secret, binding, last.sort) : null;
  };

  return {
    async order(orderId, options) {
      const { liveVersion, value } = await readOrders(options, () => orders.document(orderId));
      if (value === undefined) throw new NotFoundError(`no order ${orderId}`);
      return { body: withVersion(value) as Order, etag: documentEtag(liveVersion, value.version) };
    },

    async customerOrders(customerId, limit, options) {
      const { value } = await readCustomers(options, () => customers.listed(customerOrdersKey(customerId), limit));
      const body = { customerId, orders: value.map((entry) => withVersion(entry) as CustomerOrders['orders'][number]) };
      return { body, etag: digestEtag(body) };
    },

    async product(sku, options) {
      const { liveVersion, value } = await readProducts(options, () => products.document(sku));
      if (value === undefined) throw new NotFoundError(`no product ${sku}`);
      return { body: withVersion(value) as Product, etag: documentEtag(liveVersion, value.version) };
    },

    async topProducts(limit, options) {
      const { value } = await readRanking(options, () => ranking.ranking(unitsKey, limit));
      const body = { products: value.map(({ member, score }) => ({ sku: member, units: Math.round(score) })) };
      return { body, etag: digestEtag(body) };
    },

    async searchOrders(query, options) {
      const size = query.size ?? 20;
      const binding = queryBinding('orders', query);
      const after = query.cursor === undefined ? undefined : decodeCursor(secret, binding, query.cursor);
      const answer = await readOrderIndex(options, () => orderIndex.search(orderSearchRequest(query, size, after)));
      const counts = Object.fromEntries(orderStatuses.map((status) => [status, 0])) as OrderSearchResult['statusCounts'];
      for (const bucket of answer.facets.statusCounts ?? []) counts[bucket.key as keyof typeof counts] = bucket.count;
      const body: OrderSearchResult = {
        orders: answer.hits.slice(0, size).map(({ document, version }) => {
          const { skus: _skus, ...details } = document;
          return { ...details, version } as Order;
        }),
        total: answer.total,
        statusCounts: counts,
        nextCursor: nextCursor(answer, size, binding),
      };
      return { body, etag: digestEtag(body) };
    },

    async searchProducts(query, options) {
      const size = query.size ?? 20;
      const binding = queryBinding('products', query);
      const after = query.cursor === undefined ? undefined : decodeCursor(secret, binding, query.cursor);
      const answer = await readCatalogue(options, () => catalogue.search(productSearchRequest(query, size, after)));
      const body: ProductSearchResult = {
        products: answer.hits.slice(0, size).map(({ document, version }) => ({ ...document, version }) as ProductSearchResult['products'][number]),
        total: answer.total,
        tagCounts: (answer.facets.tagCounts ?? []).map(({ key, count }) => ({ tag: key, count })),
        nextCursor: nextCursor(answer, size, binding),
      };
      return { body, etag: digestEtag(body) };
    },

    breakerStates: () => ({ redis: breakers.redis.state(), elasticsearch: breakers.elasticsearch.state() }),

    async warmUp() {
      await Promise.all([
        orderIndex.search(orderSearchRequest({}, 1), warmUpTimeoutMs).catch(() => undefined),
        catalogue.search(productSearchRequest({}, 1), warmUpTimeoutMs).catch(() => undefined),
      ]);
    },

    stop() {
      for (const watch of watches) watch.stop();
    },
  };
}
