/**
 * What every Strata HTTP service shares: fastify with OpenAPI at `/docs`, errors
 * as RFC 9457 problem documents (a 503 or 429 also carries `Retry-After`), unknown routes
 * as 404 problems, `/healthz` / `/readyz`, and `/metrics` with every request's
 * duration by route and status. Every other request is authenticated first (its
 * principal is `request.principal`), before its body is even parsed, and counted
 * against its principal's rate limit on that route.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import type { Span } from '@opentelemetry/api';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { Histogram } from 'prom-client';
import {
  NotFoundError,
  PayloadTooLargeError,
  StrataError,
  TooManyRequestsError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
  ValidationError,
  toProblemDetails,
  type ProblemDetails,
} from './errors.js';
import type { AccessControl } from './auth/access-control.js';
import type { Principal } from './auth/principal.js';
import { tenantHeader } from './auth/tenants.js';
import type { Logger } from './logger.js';
import { latencyBuckets, scrape } from './metrics.js';
import { validationError } from './schema-validation.js';
import { traceparentOf, withSpan } from './trace-context.js';
import { rateLimitNamespace, type RateLimit } from './rate-limit.js';

export const problemSchema = Type.Object(
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

export function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  if ((problem.status === 503 || problem.status === 429) && typeof problem.retryAfter === 'number') void reply.header('retry-after', String(problem.retryAfter));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

function asStrataError(error: FastifyError): StrataError | undefined {
  if (error instanceof StrataError) return error;
  if (error.validation) return validationError(error.validation, error.validationContext ?? 'body');
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError('the request body is over 1 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError('send the request body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('the request body is empty', '/');
    default:
      // fastify's JSON parser reports malformed JSON as a 400 SyntaxError.
      return error.statusCode === 400 ? new ValidationError('the request body is not valid JSON', '/') : undefined;
  }
}

const requestDuration = new Histogram({
  name: 'strata_http_request_duration_seconds',
  help: 'HTTP requests answered, by method, route pattern and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: latencyBuckets,
});

/**
 * The request's SERVER span, made by fastify's instrumentation where the SDK runs. Taken
 * from the request rather than the active context: the write path's processes carry
 * context explicitly (see `telemetry.ts`).
 */
export function requestSpan(request: FastifyRequest): Span | undefined {
  const otel = (request as Partial<Pick<FastifyRequest, 'opentelemetry'>>).opentelemetry?.();
  return otel?.span ?? undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request, verified from its bearer token (the development principal when auth is off). */
    principal: Principal;
  }
}

/** Routes for operators and their tools, answered without a token: health, metrics, the API's description. */
const serviceRoute = (url: string) => /^\/(healthz|readyz|metrics)(\?|$)|^\/docs(\/|\?|$)/.test(url);

export interface Readiness {
  ready: boolean;
  /** Shown as is in the /readyz body. */
  [detail: string]: unknown;
}

export async function buildHttpApp(options: {
  title: string;
  description: string;
  readiness: () => Readiness;
  /** Where unexpected errors are logged (inside the request's span, so with its trace). */
  logger: Logger;
  access: AccessControl;
  /** Requests per principal, route and minute, counted in `redis` (shared by every instance); none when absent. */
  rateLimit?: RateLimit;
  fastify?: FastifyServerOptions;
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per request would cost more than the request at thousands a second; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    // The router's own refusals (a malformed percent-encoding, an over-long path segment) as problems too.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(reply, toProblemDetails(new ValidationError('the URL cannot be read (a malformed percent-encoding, or a path segment too long)', 'path'), request.url));
    },
    ...options.fastify,
  });
  // Registered before the routes, so that its onRoute hook sees every one of them.
  await app.register(fastifySwagger, {
    openapi: { info: { title: options.title, version: '1', description: options.description } },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  if (options.rateLimit !== undefined) await registerRateLimit(app, options.rateLimit);
  handleErrors(app);
  addRequestHooks(app, options.access);
  addServiceRoutes(app, options.readiness);
  return app;
}

/**
 * Per route, so after authentication (the key is the principal and the route), and before
 * the body is read: a request refused as invalid counts too.
 */
async function registerRateLimit(app: FastifyInstance, rateLimit: RateLimit): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    max: rateLimit.perMinute,
    timeWindow: 60_000,
    redis: rateLimit.redis,
    nameSpace: rateLimitNamespace,
    // A Redis that does not answer must not take the API down with it.
    skipOnError: true,
    // Service routes are not authenticated (and are let through by allowList below).
    keyGenerator: (request) =>
      serviceRoute(request.url) ? 'service-routes' : `${request.principal.tenant}/${request.principal.subject}|${request.method === 'HEAD' ? 'GET' : request.method} ${request.routeOptions.url ?? request.url}`,
    allowList: (request) => serviceRoute(request.url),
    errorResponseBuilder: (_request, context) =>
      new TooManyRequestsError(`more than ${String(context.max)} requests a minute on this route; retry in ${context.after}`, Math.ceil(context.ttl / 1000)),
  });
}

/** Every error and unknown route answered as a problem document; unexpected errors logged in the request's span. */
function handleErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = asStrataError(error);
    if (known === undefined) withSpan(requestSpan(request), () => { request.log.error({ err: error }, 'unexpected error'); });
    if (known instanceof UnauthenticatedError) void reply.header('www-authenticate', known.challenge());
    return sendProblem(reply, toProblemDetails(known ?? error, request.url));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, toProblemDetails(new NotFoundError(`no route ${request.method} ${request.url}`), request.url)),
  );
}

/** Authentication, the answer's trace, and the request's duration. */
function addRequestHooks(app: FastifyInstance, access: AccessControl): void {
  app.decorateRequest('principal');
  app.addHook('onRequest', async (request) => {
    if (serviceRoute(request.url)) return;
    // A repeated header joins with commas, which no tenant name holds: refused.
    const tenant = request.headers[tenantHeader];
    request.principal = await access.authenticate(request.headers.authorization, Array.isArray(tenant) ? tenant.join(',') : tenant);
    const span = requestSpan(request);
    // Who, never the token.
    span?.setAttributes({ 'enduser.id': request.principal.subject, 'strata.tenant': request.principal.tenant });
  });

  // Every answer names its trace, so a user can find it (in Zipkin, Jaeger, ...).
  app.addHook('onSend', (request, reply, payload, done) => {
    const traceparent = traceparentOf(requestSpan(request));
    if (traceparent !== undefined && !reply.hasHeader('traceparent')) void reply.header('traceparent', traceparent);
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    // The route's pattern, not the URL: one series per route, whatever ids clients send.
    const route = request.routeOptions.url ?? 'unmatched';
    requestDuration.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
    done();
  });
}

/** Metrics, liveness and readiness, hidden from the OpenAPI document. */
function addServiceRoutes(app: FastifyInstance, readiness: () => Readiness): void {
  app.get('/metrics', { schema: { hide: true } }, async (_, reply) => {
    const { contentType, body } = await scrape();
    return reply.type(contentType).send(body);
  });
  app.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, (_, reply) => {
    const { ready, ...detail } = readiness();
    return ready
      ? { status: 'ready', ...detail }
      : reply.code(503).header('retry-after', '1').send({ status: 'not ready', ...detail });
  });
}
