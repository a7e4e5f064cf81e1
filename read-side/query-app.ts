/**
 * The read API over HTTP (fastify): docs/shop.md's read routes, each validated and
 * documented from the schemas of read-api.ts, answered by queries.ts.
 *
 * Every answer carries an ETag (`Cache-Control: no-cache`: clients revalidate each
 * time); a matching If-None-Match gets 304 with no body. Reads accept
 * X-Consistency-Token. Errors are RFC 9457 problem documents: a 400 names the
 * parameter, a store that is down gives 503 with Retry-After.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildHttpApp, problemSchema } from '../shared/http-app.js';
import type { Logger } from '../shared/logger.js';
import type { Answer, Queries, ReadOptions } from './queries.js';
import {
  customerIdParams,
  customerOrders,
  customerOrdersQuery,
  order,
  orderIdParams,
  orderSearchQuery,
  orderSearchResult,
  product,
  productSearchQuery,
  productSearchResult,
  skuParams,
  topProducts,
  topProductsQuery,
  type OrderSearchQuery,
  type ProductSearchQuery,
} from './read-api.js';

const consistencyHeaders = Type.Object({
  'x-consistency-token': Type.Optional(
    Type.String({ maxLength: 4096, description: 'the consistencyToken of a write: the read waits until it can see that write' }),
  ),
  'if-none-match': Type.Optional(Type.String({ maxLength: 4096 })),
});

const responses = (ok: TSchema) => ({
  200: ok,
  304: Type.Null({ description: 'unchanged since the ETag given in If-None-Match' }),
  400: problemSchema,
  404: problemSchema,
  503: problemSchema,
});

const readOptions = (request: FastifyRequest): ReadOptions => ({
  consistencyToken: request.headers['x-consistency-token'] as string | undefined,
});

/** True when If-None-Match names this ETag (or is `*`); weak comparison, as RFC 9110 asks for it. */
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (typeof header !== 'string') return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

function send<T>(request: FastifyRequest, reply: FastifyReply, answer: Answer<T>) {
  void reply.header('etag', answer.etag).header('cache-control', 'no-cache');
  if (notModified(request, answer.etag)) return reply.code(304).send();
  return reply.send(answer.body);
}

export async function buildQueryApp(queries: Queries, logger: Logger, warmedUp: () => boolean = () => true): Promise<FastifyInstance> {
  const app = await buildHttpApp({
    logger,
    title: 'Strata read API',
    description: 'Queries of the reference shop domain. Every read accepts X-Consistency-Token.',
    readiness: () => {
      const breakers = queries.breakerStates();
      const warm = warmedUp();
      return { ready: warm && Object.values(breakers).every((state) => state !== 'open'), breakers, ...(warm ? {} : { warmingUp: true }) };
    },
    fastify: {
      // Over-long ids reach validation and get a 400 naming the parameter, not the router's bare 414.
      routerOptions: { maxParamLength: 16_384 },
      ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
    },
  });

  app.get<{ Params: Static<typeof orderIdParams> }>(
    '/orders/:orderId',
    { schema: { summary: 'An order: status, lines, totals', tags: ['orders'], params: orderIdParams, headers: consistencyHeaders, response: responses(order) } },
    async (request, reply) => send(request, reply, await queries.order(request.params.orderId, readOptions(request))),
  );

  app.get<{ Params: Static<typeof customerIdParams>; Querystring: Static<typeof customerOrdersQuery> }>(
    '/customers/:customerId/orders',
    {
      schema: {
        summary: "A customer's latest orders, newest first",
        tags: ['orders'],
        params: customerIdParams,
        querystring: customerOrdersQuery,
        headers: consistencyHeaders,
        response: responses(customerOrders),
      },
    },
    async (request, reply) =>
      send(request, reply, await queries.customerOrders(request.params.customerId, request.query.limit ?? 20, readOptions(request))),
  );

  app.get<{ Querystring: Static<typeof topProductsQuery> }>(
    '/products/top',
    {
      schema: {
        summary: 'Best sellers by confirmed units',
        tags: ['products'],
        querystring: topProductsQuery,
        headers: consistencyHeaders,
        response: responses(topProducts),
      },
    },
    async (request, reply) => send(request, reply, await queries.topProducts(request.query.limit ?? 10, readOptions(request))),
  );

  app.get<{ Params: Static<typeof skuParams> }>(
    '/products/:sku',
    { schema: { summary: 'A product with its available and reserved stock', tags: ['products'], params: skuParams, headers: consistencyHeaders, response: responses(product) } },
    async (request, reply) => send(request, reply, await queries.product(request.params.sku, readOptions(request))),
  );

  app.get<{ Querystring: OrderSearchQuery }>(
    '/orders',
    {
      schema: {
        summary: 'Order search with counts by status',
        tags: ['orders'],
        querystring: orderSearchQuery,
        headers: consistencyHeaders,
        response: responses(orderSearchResult),
      },
    },
    async (request, reply) => send(request, reply, await queries.searchOrders(request.query, readOptions(request))),
  );

  app.get<{ Querystring: ProductSearchQuery }>(
    '/products',
    {
      schema: {
        summary: 'Catalogue search with tag facets',
        tags: ['products'],
        querystring: productSearchQuery,
        headers: consistencyHeaders,
        response: responses(productSearchResult),
      },
    },
    async (request, reply) => send(request, reply, await queries.searchProducts(request.query, readOptions(request))),
  );

  return app;
}
