/**
 * The peer's HTTP API (fastify): `POST /commands/{type}` for every command type of the
 * aggregate it runs, the same requests the bench sends Strata's gateway. A body is
 * checked against the same schema Strata's gateway checks it against (the aggregate's
 * command schema in Strata's command body), a command answers 200 once its events are
 * stored, and a refusal or a bad request is an RFC 9457 problem document, as Strata's.
 * The Authorization header is ignored.
 */
import type { PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Aggregate } from '../../app/index.js';
import { NotFoundError, StrataError, toProblemDetails } from '../../shared/errors.js';
import { sendProblem } from '../../shared/http-app.js';
import { validationError } from '../../shared/schema-validation.js';
import { commandBodySchema, type CommandBody } from '../../write-side/command-validation.js';
import { deciderHandler } from './decider-handler.js';

/** The API of `aggregate` run by emmett on `store`; `roles`: the bench's user's (decider-handler.ts). */
export function buildPeerApp(store: PostgresEventStore, aggregate: Aggregate, roles: readonly string[]): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Strata's gateway's Ajv settings: the body is checked, never changed.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = error instanceof StrataError ? error : error.validation ? validationError(error.validation, error.validationContext ?? 'body') : undefined;
    // Anything else is the peer's bug (or PostgreSQL's): said on stderr, answered as a 500.
    if (known === undefined) console.error(`peer: ${request.method} ${request.url}:`, error);
    return sendProblem(reply, toProblemDetails(known ?? error, request.url));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, toProblemDetails(new NotFoundError(`no route ${request.method} ${request.url}`), request.url)));
  // Listening means ready: the event store's schema is made before (peer-service.ts).
  app.get('/readyz', () => ({ status: 'ready' }));

  const handle = deciderHandler(aggregate, roles);
  for (const [commandType, dataSchema] of Object.entries(aggregate.commands)) {
    app.post<{ Body: CommandBody }>(`/commands/${commandType}`, { schema: { body: commandBodySchema(dataSchema) } }, async (request) =>
      // The body matched this command type's schema: it is that command.
      handle(store, request.body.aggregateId, { type: commandType, data: request.body.data }),
    );
  }
  return app;
}
