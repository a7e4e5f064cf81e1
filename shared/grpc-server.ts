/**
 * What every Strata gRPC service shares: loading its `.proto` from `proto/`,
 * errors as gRPC statuses with the RFC 9457 problem document as JSON in the
 * trailing metadata key `problem-json`, a span per call, and binding and stopping
 * a server.
 */
import * as grpc from '@grpc/grpc-js';
import type { Span } from '@opentelemetry/api';
import * as protoLoader from '@grpc/proto-loader';
import { Histogram } from 'prom-client';
import type { AccessControl } from './auth/access-control.js';
import type { Principal } from './auth/principal.js';
import { tenantHeader } from './auth/tenants.js';
import { toProblemDetails, type ProblemDetails } from './errors.js';
import { latencyBuckets } from './metrics.js';
import { hostPort, type ListenAt } from './network-address.js';
import { packageFile } from './package-files.js';
import { SpanKind, contextOf, failSpan, startSpan, validTraceparent, withSpan } from './trace-context.js';
import { countCall, type RateLimit } from './rate-limit.js';

/** The path of a `.proto` under the repository's `proto/` folder. */
export const protoPath = (...parts: string[]) => packageFile('protos', ...parts);

export function loadService(
  file: string,
  qualifiedName: string,
  options: protoLoader.Options,
): grpc.ServiceClientConstructor {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(file, options)) as unknown as Record<string, unknown>;
  const service = qualifiedName.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], loaded);
  return service as grpc.ServiceClientConstructor;
}

const statusFor: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.ABORTED,
  413: grpc.status.INVALID_ARGUMENT,
  422: grpc.status.FAILED_PRECONDITION,
  429: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
};

export function problemError(problem: ProblemDetails): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  metadata.set('problem-json', JSON.stringify(problem));
  return Object.assign(new Error(problem.detail), {
    code: statusFor[problem.status] ?? grpc.status.INTERNAL,
    details: problem.detail,
    metadata,
  });
}

const callDuration = new Histogram({
  name: 'strata_grpc_call_duration_seconds',
  help: 'gRPC calls answered, by method and status code',
  labelNames: ['method', 'code'] as const,
  buckets: latencyBuckets,
});

/**
 * A unary handler from an async function: its result, or its error as a problem status.
 * Each call is served in a SERVER span whose parent is the caller's `traceparent`
 * metadata, so what the handler does (a command sent on) continues the caller's trace.
 */
export function unary<Req>(handler: (request: Req, metadata: grpc.Metadata, span: Span) => Promise<unknown>) {
  return (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const method = call.getPath();
    const endTimer = callDuration.startTimer({ method });
    const qualified = method.slice(1); // `package.Service/Method`
    const [service = '', name = ''] = qualified.split('/');
    const span = startSpan(`grpc ${qualified}`, {
      kind: SpanKind.SERVER,
      parent: contextOf(validTraceparent(call.metadata.get('traceparent')[0])),
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': name },
    });
    const answer = (code: grpc.status) => {
      endTimer({ code: grpc.status[code] });
      span.setAttribute('rpc.grpc.status_code', code);
      span.end();
    };
    withSpan(span, () => handler(call.request, call.metadata, span)).then(
      (result) => {
        answer(grpc.status.OK);
        callback(null, result);
      },
      (error: unknown) => {
        const isServiceError = error instanceof Error && 'code' in error && 'metadata' in error;
        const serviceError = isServiceError ? (error as grpc.ServiceError) : problemError(toProblemDetails(error));
        if (serviceError.code === grpc.status.INTERNAL || serviceError.code === grpc.status.UNAVAILABLE) failSpan(span, error);
        answer(serviceError.code);
        callback(serviceError);
      },
    );
  };
}

/**
 * A handler that first authenticates the call's `authorization` metadata (UNAUTHENTICATED
 * when it does not verify), then counts it against the principal's rate limit for the
 * method, when there is one (RESOURCE_EXHAUSTED beyond it), before the request is looked at.
 */
export function authenticated<Req>(
  access: AccessControl,
  handler: (request: Req, principal: Principal, metadata: grpc.Metadata, span: Span) => Promise<unknown>,
  limit?: { rate: RateLimit; method: string },
): (request: Req, metadata: grpc.Metadata, span: Span) => Promise<unknown> {
  return async (request, metadata, span) => {
    const [authorization] = metadata.get('authorization');
    const tenants = metadata.get(tenantHeader);
    const tenant = tenants.length === 0 ? undefined : tenants.map(String).join(',');
    const principal = await access.authenticate(typeof authorization === 'string' ? authorization : undefined, tenant);
    span.setAttributes({ 'enduser.id': principal.subject, 'strata.tenant': principal.tenant });
    if (limit !== undefined) await countCall(limit.rate, `${principal.tenant}/${principal.subject}|grpc ${limit.method}`);
    return handler(request, principal, metadata, span);
  };
}

export interface GrpcServer {
  port: number;
  stop(): Promise<void>;
}

/** `maxMessageBytes`: the largest message a call may send (gRPC's default: 4 MiB). */
export async function serveGrpc(
  service: grpc.ServiceClientConstructor,
  implementation: grpc.UntypedServiceImplementation,
  at: ListenAt,
  limits: { maxMessageBytes?: number } = {},
): Promise<GrpcServer> {
  const server = new grpc.Server(limits.maxMessageBytes === undefined ? {} : { 'grpc.max_receive_message_length': limits.maxMessageBytes });
  server.addService(service.service, implementation);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(at.host, at.port), grpc.ServerCredentials.createInsecure(), (error, actual) => {
      if (error) reject(error);
      else resolve(actual);
    });
  });
  return {
    port: bound,
    stop: () => new Promise<void>((resolve) => { server.tryShutdown(() => { resolve(); }); }),
  };
}
