/**
 * The gRPC QueryService (proto/strata/read/v1/query_service.proto): the queries of
 * the HTTP read API, validated with the same schemas and answered by the same
 * functions. Field names arrive and leave in lowerCamelCase (proto-loader's
 * conversion), which is what makes a request's fields the HTTP parameters.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { loadService, protoPath, serveGrpc, unary, type GrpcServer } from '../shared/grpc-server.js';
import { validationError } from '../shared/schema-validation.js';
import type { Queries, ReadOptions } from './queries.js';
import {
  customerIdParams,
  customerOrdersQuery,
  orderIdParams,
  orderSearchQuery,
  productSearchQuery,
  skuParams,
  topProductsQuery,
} from './read-api.js';

export const queryServiceProto = protoPath('strata', 'read', 'v1', 'query_service.proto');
export const queryServiceName = 'strata.read.v1.QueryService';
/** longs as numbers, optional fields absent when unset (as HTTP's absent parameters). */
export const queryProtoOptions = { keepCase: false, longs: Number, defaults: true, oneofs: false } as const;

const ajv = addFormats.default(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false }));

const validators = new WeakMap<TSchema, ValidateFunction>();

/** Checks `request` (unset optional fields dropped) against an HTTP parameter schema. */
function validated<S extends TSchema>(schema: S, request: object): Static<S> {
  const params = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined && value !== null));
  let validate = validators.get(schema) as ValidateFunction<Static<S>> | undefined;
  if (validate === undefined) {
    validate = ajv.compile<Static<S>>(schema);
    validators.set(schema, validate);
  }
  if (!validate(params)) throw validationError(validate.errors, 'querystring');
  return params;
}

const readOptions = (metadata: grpc.Metadata): ReadOptions => {
  const token = metadata.get('x-consistency-token')[0];
  return { consistencyToken: typeof token === 'string' ? token : undefined };
};

export function startGrpcQueryService(queries: Queries, port: number): Promise<GrpcServer> {
  const service = loadService(queryServiceProto, queryServiceName, queryProtoOptions);
  return serveGrpc(
    service,
    {
      GetOrder: unary<{ orderId: string }>(async (request, metadata) => {
        const { orderId } = validated(orderIdParams, { orderId: request.orderId });
        return (await queries.order(orderId, readOptions(metadata))).body;
      }),
      GetCustomerOrders: unary<{ customerId: string; limit?: number }>(async (request, metadata) => {
        const { customerId } = validated(customerIdParams, { customerId: request.customerId });
        const { limit } = validated(customerOrdersQuery, { limit: request.limit });
        return (await queries.customerOrders(customerId, limit ?? 20, readOptions(metadata))).body;
      }),
      GetProduct: unary<{ sku: string }>(async (request, metadata) => {
        const { sku } = validated(skuParams, { sku: request.sku });
        return (await queries.product(sku, readOptions(metadata))).body;
      }),
      GetTopProducts: unary<{ limit?: number }>(async (request, metadata) => {
        const { limit } = validated(topProductsQuery, { limit: request.limit });
        return (await queries.topProducts(limit ?? 10, readOptions(metadata))).body;
      }),
      SearchOrders: unary<object>(async (request, metadata) =>
        (await queries.searchOrders(validated(orderSearchQuery, request), readOptions(metadata))).body,
      ),
      SearchProducts: unary<object>(async (request, metadata) =>
        (await queries.searchProducts(validated(productSearchQuery, request), readOptions(metadata))).body,
      ),
    },
    port,
  );
}
