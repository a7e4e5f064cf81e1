/**
 * Trace context as it rides along commands and events (W3C `traceparent` in the
 * record headers), and the spans of Strata's own hops.
 *
 * Batching is why these spans are made by hand: a processor decides and commits
 * commands in batches, a projector stores events in batches, and the kafkajs
 * instrumentation only links batch spans. Here every command and every event gets
 * its own span whose parent is the context in its record's header, so one trace
 * runs from the HTTP request to each read-model write; batch-level spans link to them.
 *
 * Extraction uses the W3C propagator directly, so that records keep their trace
 * context even in a process without the SDK (its spans are then no-ops that carry
 * the parent's ids along).
 */
import { randomUUID } from 'node:crypto';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  defaultTextMapGetter,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const traceparentPattern = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const w3c = new W3CTraceContextPropagator();

export const tracer = trace.getTracer('strata');
export { SpanKind };

/** The header if it is a valid version-00 traceparent, else undefined. */
export function validTraceparent(value: unknown): string | undefined {
  return typeof value === 'string' && traceparentPattern.test(value) ? value : undefined;
}

/** Whether a (valid) traceparent asks for its trace to be recorded: the sampled bit of its flags. */
export const isSampled = (traceparent: string | undefined): traceparent is string =>
  traceparent !== undefined && (Number.parseInt(traceparent.slice(-2), 16) & 1) === 1;

/**
 * A new trace's root context as a header; `sampled` sets the flag that asks every hop to
 * record it. The ids come from random UUIDs (122 random bits each), which Node draws from
 * a pooled buffer: two `randomBytes` calls per command took 7 % of an untraced gateway's CPU.
 */
export function newTraceparent(sampled = true): string {
  const traceId = randomUUID().replaceAll('-', '');
  const spanId = randomUUID().replaceAll('-', '').slice(16);
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** The context a record's (or request's) traceparent names; the root context without one. */
export function contextOf(traceparent: string | undefined): Context {
  return traceparent === undefined ? ROOT_CONTEXT : w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

/** A span's traceparent, for a record header or a response; undefined for an invalid (no-op, parentless) span. */
export function traceparentOf(span: Span | undefined): string | undefined {
  const spanContext = span?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${spanContext.traceFlags.toString(16).padStart(2, '0')}`;
}

/** The span of the request being served, if the SDK made one. */
export const activeSpan = (): Span | undefined => trace.getSpan(context.active());

/**
 * A span of Strata's own under `parent`. Under a parent whose trace is not recorded it
 * is the parent's context itself, carried on: the trace's sampling was decided where it
 * started (parent-based sampling), and most records are in such traces, so they skip
 * the SDK's work for a span nobody will see.
 */
export function startSpan(
  name: string,
  options: { kind: SpanKind; parent: Context | Span; attributes?: Attributes; links?: Link[]; startTime?: number },
): Span {
  const parent = 'spanContext' in options.parent ? trace.setSpan(ROOT_CONTEXT, options.parent) : options.parent;
  const parentContext = trace.getSpanContext(parent);
  if (parentContext !== undefined && isSpanContextValid(parentContext) && (parentContext.traceFlags & TraceFlags.SAMPLED) === 0) {
    return trace.wrapSpanContext(parentContext);
  }
  const { kind, attributes, links, startTime } = options;
  return tracer.startSpan(name, { kind, ...(attributes ? { attributes } : {}), ...(links ? { links } : {}), ...(startTime === undefined ? {} : { startTime }) }, parent);
}

export const linkTo = (span: Span): Link => ({ context: span.spanContext() });

/**
 * Runs `work` with `span` active (as it is, without one), so that client spans (Redis,
 * Elasticsearch) made inside are its children and log lines written inside carry its ids.
 */
export const withSpan = <T>(span: Span | undefined, work: () => T): T =>
  span === undefined ? work() : context.with(trace.setSpan(ROOT_CONTEXT, span), work);

export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
