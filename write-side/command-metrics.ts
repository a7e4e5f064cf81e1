/**
 * The write side's metrics. The gateway counts commands as clients see them
 * (whichever front door, HTTP or gRPC, they came through) and times each from
 * submission to outcome; the processors measure their batches and transactions.
 */
import { Counter, Histogram } from 'prom-client';
import { batchSizeBuckets, latencyBuckets } from '../shared/metrics.js';
import type { CommandOutcome } from './command-record.js';

/** `accepted`, `conflict` (409), `not_found` (404) or `rejected` (a business rule, 422). */
export function outcomeLabel(outcome: CommandOutcome): string {
  if (outcome.status === 'accepted') return 'accepted';
  switch (outcome.problem.status) {
    case 409:
      return 'conflict';
    case 404:
      return 'not_found';
    default:
      return 'rejected';
  }
}

const commandLabels = ['command_type', 'outcome'] as const;

export const gatewayCommands = new Counter({
  name: 'strata_commands_total',
  help: 'Commands submitted to the gateway, by type and outcome (accepted, conflict, not_found, rejected, pending: no outcome within the wait, failed: not sent)',
  labelNames: commandLabels,
});

export const gatewayCommandDuration = new Histogram({
  name: 'strata_command_duration_seconds',
  help: 'From a valid command reaching the gateway to its outcome, by type and outcome',
  labelNames: commandLabels,
  buckets: latencyBuckets,
});

export const processedCommands = new Counter({
  name: 'strata_processor_commands_total',
  help: 'Commands a processor decided and committed, by type and outcome (accepted, conflict, not_found, rejected)',
  labelNames: commandLabels,
});

export const processorBatchSize = new Histogram({
  name: 'strata_processor_batch_commands',
  help: 'Commands per transaction (group commit)',
  buckets: batchSizeBuckets,
});

export const processorTransactionDuration = new Histogram({
  name: 'strata_processor_transaction_duration_seconds',
  help: "A batch's Kafka transaction, from begin to commit (or failure), by result",
  labelNames: ['result'] as const,
  buckets: latencyBuckets,
});

export const gatewayCommandRoutes = new Counter({
  name: 'strata_command_routes_total',
  help: "How the gateway handed commands to their partition's processor: direct (gRPC to the owner) or topic (the commands topic: no owner reachable, or STRATA_COMMAND_ROUTE=topic)",
  labelNames: ['route'] as const,
});
