/**
 * Events appended straight to the events topic, as a projector's input looks
 * without running the write side: keyed by aggregate id like the processors' (so an
 * aggregate's events share a partition), each with a traceparent header sampled at
 * the platform's default ratio (its per-second reservoir left aside, as at high
 * rates): a projector then records the share of spans it would in production, not
 * one per event. The bench's projection and read scenarios fill their logs with it, and
 * the tests theirs.
 */
import { loadConfig } from '../shared/config.js';
import { encodeEvent, type EventEnvelope } from '../shared/event-envelope.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import { newTraceparent } from '../shared/trace-context.js';

/** The first `count` items of a (generated, endless) log. */
export function takeFirst<T>(count: number, log: Iterable<T>): T[] {
  const taken: T[] = [];
  for (const item of log) {
    if (taken.length >= count) break;
    taken.push(item);
  }
  return taken;
}

export interface EventAppender {
  /** Resolves once the broker has them (acks from all in-sync replicas). */
  append(events: readonly EventEnvelope[]): Promise<void>;
  close(): Promise<void>;
}

export async function openEventAppender(log: LogClient, topic: string): Promise<EventAppender> {
  const { ratio } = loadConfig().tracing;
  const producer = await log.producer();
  return {
    append: (events) => producer.send(topic, events.map((event) => encodeEvent(event, newTraceparent(Math.random() < ratio)))),
    close: () => producer.stop(),
  };
}

export async function appendEvents(log: LogClient, topic: string, events: readonly EventEnvelope[], chunk = 2000): Promise<void> {
  const appender = await openEventAppender(log, topic);
  try {
    for (let start = 0; start < events.length; start += chunk) await appender.append(events.slice(start, start + chunk));
  } finally {
    await appender.close();
  }
}
