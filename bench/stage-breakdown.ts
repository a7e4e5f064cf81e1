/**
 * Where a command's time goes, from the traces the platform records anyway (at its
 * default sampling) and the local Zipkin keeps: for each sampled command of a
 * measured interval, the gaps between its spans on the gateway and the processor.
 *
 *   intake       HTTP request in → the gateway hands the command on (to the owner directly, or to the commands topic)
 *   produce      the command record's produce (acks=all); only for commands sent through the topic
 *   to processor the hand-over → the processor starts handling the command (direct: the gRPC call;
 *                topic: from the produce's acknowledgement, the processor's fetch wait and the batch before it)
 *   in batch     handling started → its decision started (the commands before it in the batch)
 *   decide       the decider
 *   transaction  the batch's Kafka transaction (events, outcomes, offsets; commit)
 *   reply        transaction committed → HTTP answer (direct: the gRPC answer; topic: the gateway's fetch
 *                of the outcome; then the response)
 *
 * Each stage is summarised over the commands that have it (`produce` only over those
 * that went through the topic); `direct` counts the commands that went straight to the owner.
 */
import type { LatencySummary } from './latency.js';
import { summarise } from './latency.js';

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
}

export const stages = ['intake', 'produce', 'to processor', 'in batch', 'decide', 'transaction', 'reply'] as const;
export type StageBreakdown = { traces: number; direct: number } & Partial<Record<(typeof stages)[number], LatencySummary>>;

const serviceOf = (span: ZipkinSpan) => span.localEndpoint?.serviceName ?? '';
const end = (span: ZipkinSpan) => (span.timestamp ?? 0) + (span.duration ?? 0);

/** The stages of one command's trace, in ms (`produce` only through the topic); undefined when a span is missing. */
function stagesOf(trace: readonly ZipkinSpan[], commandType: string): Partial<Record<(typeof stages)[number], number>> | undefined {
  const name = commandType.toLowerCase();
  const root = trace.find((span) => span.parentId === undefined && serviceOf(span) === 'strata-gateway');
  const gatewaySpan = (named: string) => trace.find((span) => serviceOf(span) === 'strata-gateway' && span.name === named);
  // A command that went direct and fell back to the topic has both: the topic's is the path it took.
  const send = gatewaySpan(`send ${name}`);
  const handOver = send ?? gatewaySpan(`decide ${name}`);
  const process = trace.find((span) => serviceOf(span) === 'strata-processor' && span.name === `process ${name}`);
  const child = (named: string) => trace.find((span) => span.parentId === process?.id && span.name === named);
  const decide = child('decide');
  const transaction = child('transaction');
  if (root?.timestamp === undefined || handOver?.timestamp === undefined || process?.timestamp === undefined || decide?.timestamp === undefined || transaction?.timestamp === undefined) {
    return undefined;
  }
  const ms = (micros: number) => micros / 1000;
  return {
    intake: ms(handOver.timestamp - root.timestamp),
    ...(send === undefined ? {} : { produce: ms(send.duration ?? 0) }),
    'to processor': ms(process.timestamp - (send === undefined ? handOver.timestamp : end(send))),
    'in batch': ms(decide.timestamp - process.timestamp),
    decide: ms(decide.duration ?? 0),
    transaction: ms(transaction.duration ?? 0),
    reply: ms(end(root) - end(transaction)),
  };
}

/** The breakdown of the commands of `commandType` traced between `from` and `to` (epoch ms). */
export async function stageBreakdown(zipkinUrl: string, commandType: string, from: number, to: number): Promise<StageBreakdown> {
  const query = new URLSearchParams({
    serviceName: 'strata-processor',
    spanName: `process ${commandType.toLowerCase()}`,
    endTs: String(to),
    lookback: String(to - from),
    limit: '5000',
  });
  const response = await fetch(`${zipkinUrl}/api/v2/traces?${query.toString()}`);
  if (!response.ok) throw new Error(`Zipkin answered ${String(response.status)}`);
  const traces = ((await response.json()) as ZipkinSpan[][])
    .map((trace) => stagesOf(trace, commandType))
    .filter((found) => found !== undefined);
  const breakdown: StageBreakdown = { traces: traces.length, direct: traces.filter((trace) => trace.produce === undefined).length };
  for (const stage of stages) {
    const values = traces.flatMap((trace) => (trace[stage] === undefined ? [] : [trace[stage]]));
    if (values.length > 0) breakdown[stage] = summarise(values);
  }
  return breakdown;
}
