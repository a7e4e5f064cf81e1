/**
 * The one telemetry bootstrap (OpenTelemetry SDK for Node.js) of every Strata
 * service process. It must run before kafkajs, ioredis, fastify and grpc are
 * loaded, so the CLI loads everything else after it (cli/main.ts).
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
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { loadConfig } from './config.js';

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

const flushTimeoutMs = 5_000;

/** The share of new traces recorded when OTEL_TRACES_SAMPLER is not set. */
export const defaultSamplingRatio = 0.1;

/** Flushes and stops telemetry, if this process started it (on the way out). */
export async function shutdownTelemetry(): Promise<void> {
  // Best effort, bounded: after heavy load the exporter may hold a backlog that a busy
  // collector takes long to accept; what is not flushed by then is dropped.
  const flushed = running?.shutdown().catch(() => undefined);
  running = undefined;
  await Promise.race([flushed, sleep(flushTimeoutMs, undefined, { ref: false })]);
}

export function startTelemetry(role: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  if (!exporterVariables.some((variable) => env[variable] !== undefined && env[variable] !== '')) {
    env.OTEL_TRACES_EXPORTER = 'zipkin';
    env.OTEL_EXPORTER_ZIPKIN_ENDPOINT = `${loadConfig(env).zipkin.url}/api/v2/spans`;
  }
  // One trace in ten by default, and always when the caller's traceparent is sampled: at
  // every request, span export costs more than the 10 % of write throughput allowed.
  if (env.OTEL_TRACES_SAMPLER === undefined || env.OTEL_TRACES_SAMPLER === '') {
    env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    env.OTEL_TRACES_SAMPLER_ARG ??= String(defaultSamplingRatio);
  }
  // Traces only: metrics are Prometheus scrapes and logs are JSON lines on stdout.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  // ESM imports are hooked too (import-in-the-middle), not only require().
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const serviceName = env.OTEL_SERVICE_NAME ?? `strata-${role}`;
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [
      new HttpInstrumentation(),
      new UndiciInstrumentation(),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (options) => ['/healthz', '/readyz'].includes(options.url) }),
      new GrpcInstrumentation(),
      new IORedisInstrumentation(),
      // trace_id and span_id on every log line written inside a span.
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  running = { serviceName, shutdown: () => sdk.shutdown() };
  return running;
}
