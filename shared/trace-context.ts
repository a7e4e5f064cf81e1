/**
 * W3C trace context (`traceparent`) as it rides along commands and events.
 * Until the OpenTelemetry bootstrap lands, the gateway takes the caller's
 * traceparent or starts a new trace, and every hop copies it on.
 */
import { randomBytes } from 'node:crypto';

const traceparentPattern = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The header if it is a valid version-00 traceparent, else undefined. */
export function validTraceparent(value: unknown): string | undefined {
  return typeof value === 'string' && traceparentPattern.test(value) ? value : undefined;
}

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}
