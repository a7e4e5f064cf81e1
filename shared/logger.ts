/**
 * The logger of every process: pino, JSON lines on stdout, one `name` per component.
 * A line written inside a span carries its `trace_id` and `span_id`, so a trace leads
 * to its log lines and back.
 */
import { isSpanContextValid } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { activeSpan } from './trace-context.js';

export type { Logger };

function traceFields(): Record<string, string> {
  const spanContext = activeSpan()?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: `0${spanContext.traceFlags.toString(16)}` };
}

export function createLogger(config: Pick<Config, 'logLevel'>, name: string): Logger {
  return pino({ name, level: config.logLevel, mixin: traceFields });
}
