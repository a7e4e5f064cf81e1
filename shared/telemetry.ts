/**
 * The one telemetry bootstrap (OpenTelemetry SDK for Node.js) of every Strata
 * service process. It must run before ioredis is loaded and fastify is set up, so
 * the CLI loads everything else after it (cli/main.ts).
 *
 * `service.name` is `strata-<role>`; the standard OTEL_* variables are honoured
 * (exporter, endpoint, sampler, batch delay, OTEL_SDK_DISABLED, ...). When none of
 * the exporter variables is set, traces go to the local stack's Zipkin
 * (STRATA_ZIPKIN_URL); set OTEL_TRACES_EXPORTER=otlp and OTEL_EXPORTER_OTLP_ENDPOINT to
 * send them to Jaeger, Tempo or any OTLP collector instead.
 */
import { register } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { loadConfig } from './config.js';
import { strataSampler } from './trace-sampler.js';

export interface Telemetry {
  serviceName: string;
  shutdown(): Promise<void>;
}

const exporterVariables = ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_ZIPKIN_ENDPOINT'];

/** The role of a `strata start --role <role>` command that runs exactly one role, once. */
export function singleRole(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  if (args[0] !== 'start' || args.includes('--help') || args.includes('-h')) return undefined;
  const roles: string[] = [];
  const at = args.indexOf('--role');
  for (let i = at + 1; at >= 0 && i < args.length && !(args[i] ?? '-').startsWith('-'); i++) roles.push(args[i] ?? '');
  const instances = args.indexOf('--instances');
  const several = instances >= 0 && args[instances + 1] !== '1';
  return roles.length === 1 && !several ? roles[0] : undefined;
}

let running: Telemetry | undefined;

/** Probes and scrapes: a trace each would only bury the requests that matter. */
const unTracedPaths = ['/healthz', '/readyz', '/metrics'];

const flushTimeoutMs = 5_000;

/** Flushes and stops telemetry, if this process started it (on the way out). */
export async function shutdownTelemetry(): Promise<void> {
  // Best effort, bounded: after heavy load the exporter may hold a backlog that a busy
  // collector takes long to accept; what is not flushed by then is dropped.
  const flushed = running?.shutdown().catch(() => undefined);
  running = undefined;
  await Promise.race([flushed, sleep(flushTimeoutMs, undefined, { ref: false })]);
}

/**
 * What each role instruments. Strata's own hops
 * (HTTP requests through fastify, gRPC calls in `grpc-server.ts`, commands and events in
 * `trace-context.ts`) are traced without patching modules; only fastify (a diagnostics
 * channel), Elasticsearch's HTTP client (undici, a diagnostics channel) and ioredis (a
 * require hook) are instrumented, each where it is used. A require hook taxes every later
 * `require()` call, and kafkajs makes two per broker request: in the command processor
 * that hook alone took 8 % of its CPU. Every role keeps the active context in
 * AsyncLocalStorage (the SDK's default): on Node.js 24 it no longer needs promise hooks,
 * and the stack context manager the gateway and processor used on Node.js 20 measured no
 * cheaper (docs/observability.md).
 */
function roleTelemetry(role: string): Partial<Pick<NodeSDKConfiguration, 'instrumentations'>> {
  // The SERVER span of every request, named after its route, and no span per hook or
  // for the handler: those tripled a request's spans and told nothing more.
  const fastify = () =>
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      instrumentHooks: false,
      instrumentHandler: false,
      ignorePaths: (options) => unTracedPaths.includes(options.url),
      requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? request.url}`),
    });
  switch (role) {
    case 'gateway':
      return { instrumentations: [fastify()] };
    case 'processor':
      return { instrumentations: [] };
    case 'query':
      return { instrumentations: [fastify(), new UndiciInstrumentation(), new IORedisInstrumentation()] };
    case 'projector':
      return { instrumentations: [new UndiciInstrumentation(), new IORedisInstrumentation()] };
    case 'saga':
      return { instrumentations: [new IORedisInstrumentation()] };
    default:
      return {};
  }
}

export function startTelemetry(role: string, env: NodeJS.ProcessEnv = process.env): Telemetry | undefined {
  // Disabled means no instrumentation at all, not instrumentations over a no-op tracer.
  if (['true', '1'].includes((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase())) return undefined;
  const config = loadConfig(env);
  if (!exporterVariables.some((variable) => env[variable] !== undefined && env[variable] !== '')) {
    env.OTEL_TRACES_EXPORTER = 'zipkin';
    env.OTEL_EXPORTER_ZIPKIN_ENDPOINT = `${config.zipkin.url}/api/v2/spans`;
  }
  // The standard samplers when OTEL_TRACES_SAMPLER names one; else Strata's (trace-sampler.ts).
  const configured = env.OTEL_TRACES_SAMPLER !== undefined && env.OTEL_TRACES_SAMPLER !== '';
  const sampler = configured ? {} : { sampler: strataSampler(config.tracing) };
  // Traces only: metrics are Prometheus scrapes and logs are JSON lines on stdout.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  // Zipkin copies the resource onto every span: the process detector's command line and
  // paths tripled each span's size, for nothing a trace needs.
  env.OTEL_NODE_RESOURCE_DETECTORS ??= 'env,host';
  const serviceName = env.OTEL_SERVICE_NAME ?? `strata-${role}`;
  const telemetry = roleTelemetry(role);
  // ioredis is a CommonJS module imported from ES modules: its hook needs the ESM loader's.
  if (telemetry.instrumentations?.some((instrumentation) => instrumentation instanceof IORedisInstrumentation)) {
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  }
  const sdk = new NodeSDK({ serviceName, ...telemetry, ...sampler });
  sdk.start();
  running = { serviceName, shutdown: () => sdk.shutdown() };
  return running;
}
