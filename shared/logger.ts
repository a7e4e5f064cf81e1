/**
 * The logger of every process: pino, one `name` per component. JSON lines for
 * machines (not a terminal, or STRATA_LOG_FORMAT=json); on a terminal, or with
 * STRATA_LOG_FORMAT=pretty, one readable line each (pino-pretty, written in this
 * process, synchronously: no worker thread, nothing lost at exit).
 * A line written inside a span carries its `trace_id` and `span_id`, so a trace leads
 * to its log lines and back.
 */
import { isSpanContextValid } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Config } from './config.js';
import { activeSpan } from './trace-context.js';

export type { Logger };

function traceFields(): Record<string, string> {
  const spanContext = activeSpan()?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: `0${spanContext.traceFlags.toString(16)}` };
}

export function createLogger(config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logFormat'>>, name: string): Logger {
  const format = config.logFormat ?? 'json';
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY);
  const options = { name, level: config.logLevel, mixin: traceFields };
  if (!pretty) return pino(options);
  return pino(
    options,
    PinoPretty({
      sync: true,
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name,role,trace_flags',
      messageFormat: '{if role}{role} {end}{msg}',
      singleLine: true,
    }),
  );
}
