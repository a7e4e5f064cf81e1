/**
 * The write API over HTTP (fastify): `POST /commands/{CommandType}` and
 * `GET /commands/{commandId}`, as docs/write-path.md describes them.
 *
 * One route per command type, its body schema built from the domain's own schema
 * for that type, so validation and the domain can never disagree. Every error is
 * an RFC 9457 problem document; nothing reaches Kafka before validation passes.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AccessControl } from '../../shared/auth/access-control.js';
import { NotFoundError } from '../../shared/errors.js';
import { buildHttpApp, problemSchema, requestSpan, sendProblem, type Readiness } from '../../shared/http-app.js';
import { identifierPattern } from '../../shared/identifiers.js';
import type { Logger } from '../../shared/logger.js';
import type { CommandOutcome } from '../command-record.js';
import { commandBodySchema, type CommandBody } from '../command-validation.js';
import type { CommandIntake } from './command-intake.js';
import { maxRequestBytes } from '../../shared/request-limits.js';
import type { RateLimit } from '../../shared/rate-limit.js';

export interface GatewayDependencies {
  intake: CommandIntake;
  access: AccessControl;
  rateLimit?: RateLimit;
  /** Whether the gateway can take commands now, and if not why (for /readyz). */
  ready(): Readiness;
  logger: Logger;
  appName?: string;
}

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
  const app = await buildHttpApp({
    logger: deps.logger,
    access: deps.access,
    ...(deps.rateLimit === undefined ? {} : { rateLimit: deps.rateLimit }),
    title: `${deps.appName ?? 'Strata'} write API`,
    description: "The app's commands: one route per command type, its body the command's declared schema.",
    readiness: () => deps.ready(),
    fastify: {
      bodyLimit: maxRequestBytes,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    },
  });
  // Commands are JSON only: anything else is a 415, not a string to validate.
  app.removeContentTypeParser(['text/plain']);

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
          const span = requestSpan(request);
          const { commandId, traceparent, outcome } = await intake.submit({
            commandType,
            body: request.body,
            principal: request.principal,
            ...(span === undefined ? {} : { span }),
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
    async (request, reply) => {
      const outcome = await intake.outcomeOf(request.principal.tenant, request.params.commandId);
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
