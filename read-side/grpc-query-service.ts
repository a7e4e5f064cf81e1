/**
 * The gRPC QueryService (proto/strata/read/v1/query_service.proto): one generic
 * service for the queries of whatever app is loaded, each named in the call with its
 * parameters as JSON, validated with the same schema as the HTTP route and answered
 * by the same runtime.
 */
import type * as grpc from '@grpc/grpc-js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import type { AccessControl } from '../shared/auth/access-control.js';
import type { Principal } from '../shared/auth/principal.js';
import { authenticated, loadService, protoPath, serveGrpc, unary, type GrpcServer } from '../shared/grpc-server.js';
import type { ListenAt } from '../shared/network-address.js';
import { validatedParams } from './query-params.js';
import type { QueryRuntime, ReadOptions } from './query-runtime.js';
import { maxRequestBytes } from '../shared/request-limits.js';
import type { RateLimit } from '../shared/rate-limit.js';

export const queryServiceProto = protoPath('strata', 'read', 'v1', 'query_service.proto');
export const queryServiceName = 'strata.read.v1.QueryService';
export const queryProtoOptions = { keepCase: false, longs: Number, defaults: true, oneofs: false } as const;

const readOptions = (principal: Principal, metadata: grpc.Metadata): ReadOptions => {
  const token = metadata.get('x-consistency-token')[0];
  return { principal, consistencyToken: typeof token === 'string' ? token : undefined };
};

function paramsOf(json: string): Record<string, unknown> {
  let params: unknown;
  try {
    params = json === '' ? {} : JSON.parse(json);
  } catch {
    throw new ValidationError('paramsJson is not JSON', 'paramsJson');
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new ValidationError('paramsJson must be a JSON object', 'paramsJson');
  return params as Record<string, unknown>;
}

export function startGrpcQueryService(runtime: QueryRuntime, access: AccessControl, at: ListenAt, rate?: RateLimit): Promise<GrpcServer> {
  const limit = (method: string) => (rate === undefined ? undefined : { rate, method });
  const service = loadService(queryServiceProto, queryServiceName, queryProtoOptions);
  const byName = new Map(runtime.queries.map((query) => [query.name, query]));
  return serveGrpc(
    service,
    {
      Query: unary<{ name: string; paramsJson: string }>(authenticated(access, async (request, principal, metadata) => {
        const query = byName.get(request.name);
        if (query === undefined) throw new NotFoundError(`no query named "${request.name}"; known: ${[...byName.keys()].join(', ')}`);
        const answer = await runtime.run(query, validatedParams(query, paramsOf(request.paramsJson)), readOptions(principal, metadata));
        return { answerJson: JSON.stringify(answer.body) };
      }, limit('Query'))),
      Describe: unary<object>(authenticated(access, () =>
        Promise.resolve({
          queries: runtime.queries.map((query) => ({
            name: query.name,
            route: query.route,
            summary: query.summary,
            paramsSchemaJson: JSON.stringify(query.params),
            answerSchemaJson: JSON.stringify(query.answer),
            reads: query.reads.map((projection) => projection.name),
          })),
        }),
      limit('Describe'),
      )),
    },
    at,
    { maxMessageBytes: maxRequestBytes },
  );
}
