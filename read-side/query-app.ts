/**
 * The read API over HTTP (fastify): one GET route per declared query, its path and
 * query-string parameters validated and documented (OpenAPI at /docs) from the
 * query's parameter schema, its answer from the answer schema, answered by the
 * query runtime.
 *
 * Every answer carries an ETag (`Cache-Control: no-cache`: clients revalidate each
 * time); a matching If-None-Match gets 304 with no body. Reads accept
 * X-Consistency-Token. Errors are RFC 9457 problem documents: a 400 names the
 * parameter (an unknown one too), a store that is down gives 503 with Retry-After.
 */
import type { AccessControl } from '../shared/auth/access-control.js';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildHttpApp, problemSchema } from '../shared/http-app.js';
import type { Logger } from '../shared/logger.js';
import { pathParameters, type Query } from './query-definition.js';
import type { Answer, QueryRuntime, ReadOptions } from './query-runtime.js';
import type { RateLimit } from '../shared/rate-limit.js';

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
  principal: request.principal,
  consistencyToken: request.headers['x-consistency-token'] as string | undefined,
});

/** True when If-None-Match names this ETag (or is `*`); weak comparison, as RFC 9110 asks for it. */
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (typeof header !== 'string') return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

function send(request: FastifyRequest, reply: FastifyReply, answer: Answer) {
  void reply.header('etag', answer.etag).header('cache-control', 'no-cache');
  if (notModified(request, answer.etag)) return reply.code(304).send();
  return reply.send(answer.body);
}

/** A query's parameter schema split as HTTP carries it: path parameters and the query string (closed, so an unknown one is refused). */
function httpParameters(query: Query): { params?: TObject; querystring: TObject } {
  const inPath = new Set(pathParameters(query.route));
  const part = (path: boolean) =>
    Type.Object(Object.fromEntries(Object.entries(query.params.properties).filter(([name]) => inPath.has(name) === path)), { additionalProperties: false });
  return { ...(inPath.size > 0 ? { params: part(true) } : {}), querystring: part(false) };
}

export async function buildQueryApp(options: {
  runtime: QueryRuntime;
  access: AccessControl;
  rateLimit?: RateLimit;
  logger: Logger;
  title: string;
  warmedUp?: () => boolean;
}): Promise<FastifyInstance> {
  const { runtime } = options;
  const warmedUp = options.warmedUp ?? (() => true);
  const app = await buildHttpApp({
    logger: options.logger,
    access: options.access,
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    title: options.title,
    description: 'The queries of the app. Every read accepts X-Consistency-Token.',
    readiness: () => {
      const breakers = runtime.breakerStates();
      const warm = warmedUp();
      return { ready: warm && Object.values(breakers).every((state) => state !== 'open'), breakers, ...(warm ? {} : { warmingUp: true }) };
    },
    fastify: {
      // Over-long ids reach validation and get a 400 naming the parameter, not the router's bare 414.
      routerOptions: { maxParamLength: 16_384 },
      ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
    },
  });

  for (const query of runtime.queries) {
    app.get<{ Params: Record<string, unknown>; Querystring: Record<string, unknown> }>(
      query.route,
      {
        schema: {
          operationId: query.name,
          summary: query.summary,
          ...(query.tags === undefined ? {} : { tags: [...query.tags] }),
          ...httpParameters(query),
          headers: consistencyHeaders,
          response: responses(query.answer),
        },
      },
      async (request, reply) => send(request, reply, await runtime.run(query, { ...request.query, ...request.params }, readOptions(request))),
    );
  }
  return app;
}
