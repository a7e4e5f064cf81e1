/**
 * The write API over HTTP (fastify): `POST /commands/{CommandType}` and
 * `GET /commands/{commandId}`, as DOMAIN.md specifies them.
 *
 * One route per command type, its body schema built from the domain's own schema
 * for that type, so validation and the domain can never disagree. Every error is
 * an RFC 9457 problem document; nothing reaches Kafka before validation passes.
 */
import { Type } from '@sinclair/typebox';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import {
  NotFoundError,
  PayloadTooLargeError,
  StrataError,
  UnsupportedMediaTypeError,
  ValidationError,
  toProblemDetails,
  type ProblemDetails,
} from '../../shared/errors.js';
import type { CommandOutcome } from '../command-record.js';
import {
  commandBodySchema,
  identifierPattern,
  validationError,
  type CommandBody,
  type CommandIntake,
} from './command-intake.js';

export interface GatewayDependencies {
  intake: CommandIntake;
  /** Whether the gateway can take commands now (for /readyz). */
  ready(): boolean;
}

function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

function asStrataError(error: FastifyError): StrataError | undefined {
  if (error instanceof StrataError) return error;
  if (error.validation) return validationError(error.validation);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError('the request body is over 1 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError('send the command as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('the request body is empty', '/');
    default:
      // fastify's JSON parser reports malformed JSON as a 400 SyntaxError.
      return error.statusCode === 400 ? new ValidationError('the request body is not valid JSON', '/') : undefined;
  }
}

const problemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
  },
  // Extensions (field, currentVersion, rule, ...) must survive serialization.
  { additionalProperties: true, description: 'RFC 9457 problem details; extensions such as field or currentVersion follow' },
);

const outcomeSchema = Type.Object({
  commandId: Type.String(),
  aggregateId: Type.String(),
  version: Type.Integer(),
  events: Type.Array(Type.String()),
  consistencyToken: Type.String({ description: 'pass as X-Consistency-Token to read your write' }),
});

const pendingSchema = Type.Object({
  commandId: Type.String(),
  status: Type.Literal('pending'),
  statusUrl: Type.String(),
});

/** Response documentation shared by the command routes (OpenAPI only: replies are not re-validated). */
const commandResponses = {
  200: outcomeSchema,
  202: pendingSchema,
  400: problemSchema,
  404: problemSchema,
  409: problemSchema,
  413: problemSchema,
  415: problemSchema,
  422: problemSchema,
  503: problemSchema,
};

export async function buildGatewayApp(deps: GatewayDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: 1024 * 1024,
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  // Commands are JSON only: anything else is a 415, not a string to validate.
  app.removeContentTypeParser(['text/plain']);
  // Registered before the routes, so that its onRoute hook sees every one of them.
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Strata write API', version: '1', description: 'Commands of the reference shop domain (DOMAIN.md).' },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = asStrataError(error);
    if (known === undefined) request.log.error({ err: error }, 'unexpected error');
    return sendProblem(reply, toProblemDetails(known ?? error, request.url));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, toProblemDetails(new NotFoundError(`no route ${request.method} ${request.url}`), request.url)),
  );

  app.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, (_, reply) =>
    deps.ready() ? { status: 'ready' } : reply.code(503).header('retry-after', '1').send({ status: 'starting' }),
  );

  const { intake } = deps;
  for (const aggregate of intake.domain.aggregates) {
    for (const [commandType, dataSchema] of Object.entries(aggregate.commands)) {
      app.post<{ Body: CommandBody }>(
        `/commands/${commandType}`,
        {
          schema: {
            summary: `${commandType} on a ${aggregate.type}`,
            tags: [aggregate.type],
            body: commandBodySchema(dataSchema),
            headers: Type.Object({
              'idempotency-key': Type.Optional(Type.String({ pattern: identifierPattern, description: 'the command id' })),
            }),
            response: commandResponses,
          },
        },
        async (request, reply) => {
          const key = request.headers['idempotency-key'];
          const { commandId, traceparent, outcome } = await intake.submit({
            commandType,
            body: request.body,
            ...(typeof key === 'string' ? { commandId: key } : {}),
            ...(typeof request.headers.traceparent === 'string' ? { traceparent: request.headers.traceparent } : {}),
          });
          void reply.header('traceparent', traceparent);
          if (outcome === undefined) {
            return reply.code(202).send({ commandId, status: 'pending', statusUrl: `/commands/${commandId}` });
          }
          return replyWithOutcome(reply, outcome, request.url);
        },
      );
    }
  }

  app.post('/commands/:commandType', { schema: { hide: true } }, (request) => {
    intake.aggregateFor((request.params as { commandType: string }).commandType);
    throw new Error('unreachable: every known command type has its own route');
  });

  app.get<{ Params: { commandId: string } }>(
    '/commands/:commandId',
    {
      schema: {
        summary: 'The outcome of a command, by its id',
        params: Type.Object({ commandId: Type.String({ pattern: identifierPattern }) }),
        response: { 200: outcomeSchema, 400: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema },
      },
    },
    (request, reply) => {
      const outcome = intake.outcomeOf(request.params.commandId);
      if (outcome === undefined) {
        throw new NotFoundError(`no outcome known for command ${request.params.commandId} (unknown, or not processed yet)`);
      }
      return replyWithOutcome(reply, outcome, request.url);
    },
  );

  return app;
}

function replyWithOutcome(reply: FastifyReply, outcome: CommandOutcome, url: string): FastifyReply {
  if (outcome.status === 'rejected') return sendProblem(reply, { ...outcome.problem, instance: url });
  const { status: _status, ...accepted } = outcome;
  return reply.code(200).send(accepted);
}
