/**
 * The spans of one batch, wrapped around its decide and write steps. Each command is
 * handled in a span of its own, child of its record's trace context; the batch's one
 * transaction has a span of its own, linked to every command's; under each command, a
 * decide and a transaction span over the batch's phases, and a send span per event,
 * whose context the event carries on.
 */
import type { Span } from '@opentelemetry/api';
import { SpanKind, contextOf, failSpan, linkTo, startSpan, traceparentOf, validTraceparent } from '../../shared/trace-context.js';
import type { CommandRecord } from '../command-record.js';
import type { Decision } from './partition-state.js';

/** A command and the trace context it travels in. */
export interface Submitted {
  command: CommandRecord;
  traceparent: string | undefined;
}

export interface BatchTrace {
  /** The batch is decided: its decide phase ends and its transaction's begins. */
  decided(decision: Decision, decideStart: number): void;
  eventTraceparent: (index: number) => string | undefined;
  /** The span a command was handled in, for its log lines. */
  commandSpan(commandId: string): Span | undefined;
}

export async function tracedBatch<T>(
  partition: number,
  submitted: readonly Submitted[],
  fromTopic: boolean,
  work: (trace: BatchTrace) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const spansToEnd = submitted.map(({ command, traceparent }) =>
    startSpan(`process ${command.commandType}`, {
      kind: fromTopic ? SpanKind.CONSUMER : SpanKind.INTERNAL,
      parent: contextOf(validTraceparent(traceparent)),
      startTime: started,
      attributes: { 'strata.command.id': command.commandId, 'strata.aggregate.id': command.aggregateId, 'messaging.kafka.partition': partition },
    }),
  );
  // A command sent twice in one batch has two spans; its events go under the later one.
  const commandSpans = new Map(submitted.map(({ command }, index) => [command.commandId, spansToEnd[index] as Span]));
  let batchSpan: Span | undefined;
  let eventSpans: Span[] = [];
  const trace: BatchTrace = {
    decided(decision, decideStart) {
      const phases = decisionSpans(partition, submitted.length, commandSpans, decision, decideStart);
      batchSpan = phases.batchSpan;
      eventSpans = phases.eventSpans;
      spansToEnd.push(...phases.openSpans);
    },
    eventTraceparent: (index) => traceparentOf(eventSpans[index]),
    commandSpan: (commandId) => commandSpans.get(commandId),
  };
  try {
    return await work(trace);
  } catch (error) {
    if (batchSpan !== undefined) failSpan(batchSpan, error);
    throw error;
  } finally {
    const ended = Date.now();
    for (const span of spansToEnd.reverse()) span.end(ended);
  }
}

/** The spans that start once the batch is decided; `openSpans` end with the batch. */
function decisionSpans(partition: number, commands: number, commandSpans: Map<string, Span>, decision: Decision, decideStart: number) {
  const decided = Date.now();
  const batchSpan = startSpan('commit command batch', {
    kind: SpanKind.INTERNAL,
    parent: contextOf(undefined),
    startTime: decided,
    links: [...commandSpans.values()].filter((span) => span.isRecording()).map(linkTo),
    attributes: { 'messaging.kafka.partition': partition, 'strata.batch.commands': commands, 'strata.batch.events': decision.events.length },
  });
  const phase = (name: string, startTime: number) =>
    [...commandSpans.values()].map((span) =>
      startSpan(name, { kind: SpanKind.INTERNAL, parent: span, startTime, links: [linkTo(batchSpan)] }),
    );
  for (const span of phase('decide', decideStart)) span.end(decided);
  const transactionSpans = phase('transaction', decided);
  const eventSpans = decision.events.map((event) =>
    startSpan(`send ${event.type}`, {
      kind: SpanKind.PRODUCER,
      parent: commandSpans.get(event.commandId) ?? contextOf(undefined),
      startTime: decided,
      attributes: { 'strata.event.id': event.eventId, 'strata.aggregate.id': event.aggregateId, 'strata.aggregate.version': event.version },
    }),
  );
  return { batchSpan, eventSpans, openSpans: [...transactionSpans, ...eventSpans, batchSpan] };
}
