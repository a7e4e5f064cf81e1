/**
 * What travels between the gateway and the command processors: a command record
 * on the commands topic, and its outcome on the command-results topic.
 */
import type { LogRecord, OutgoingRecord } from '../shared/kafka/log-client.js';
import { defaultTenant, type Principal } from '../shared/auth/principal.js';
import { streamKeyOf, tenantPattern } from '../shared/auth/tenants.js';
import { MalformedRecordError, type ProblemDetails } from '../shared/errors.js';

export interface CommandRecord {
  commandId: string;
  commandType: string;
  /** The tenant whose aggregate it addresses: the sender's (a service's: the one it acts for). */
  tenant: string;
  aggregateType: string;
  aggregateId: string;
  expectedVersion?: number;
  data: unknown;
  /** The conversation it belongs to; its own id unless a saga passes one on. */
  correlationId: string;
  submittedAt: string;
  /** Who sent it, as the gateway verified; absent on records written before authentication existed. */
  principal?: Principal;
}

export type CommandOutcome =
  | {
      status: 'accepted';
      commandId: string;
      tenant: string;
      aggregateId: string;
      version: number;
      events: string[];
      consistencyToken: string;
    }
  | { status: 'rejected'; commandId: string; tenant: string; aggregateId: string; problem: ProblemDetails };

export function encodeCommand(command: CommandRecord, traceparent?: string): OutgoingRecord {
  const headers: Record<string, string> = { 'strata-command-type': command.commandType, 'strata-command-id': command.commandId };
  if (traceparent !== undefined) headers.traceparent = traceparent;
  return { key: streamKeyOf(command.tenant, command.aggregateId), value: JSON.stringify(command), headers };
}

export function decodeCommand(message: Pick<LogRecord, 'value'>): CommandRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch {
    throw new MalformedRecordError('the command record is not JSON');
  }
  return checkCommand(parsed);
}

/** A parsed value as a command record, or MalformedRecordError naming what it lacks. */
export function checkCommand(parsed: unknown): CommandRecord {
  if (typeof parsed !== 'object' || parsed === null) throw new MalformedRecordError('the command record is not an object');
  const record = parsed as Partial<Record<keyof CommandRecord, unknown>>;
  for (const field of ['commandId', 'commandType', 'aggregateType', 'aggregateId', 'correlationId'] as const) {
    if (typeof record[field] !== 'string') throw new MalformedRecordError(`the command record has no ${field}`);
  }
  // Records from before tenants address the default one.
  if (record.tenant === undefined) record.tenant = defaultTenant;
  else if (typeof record.tenant !== 'string' || !tenantPattern.test(record.tenant)) throw new MalformedRecordError('the command record has no valid tenant');
  return parsed as CommandRecord;
}

export function encodeOutcome(outcome: CommandOutcome, partition: number): OutgoingRecord {
  return { key: outcome.commandId, value: JSON.stringify(outcome), partition };
}

export function decodeOutcome(message: Pick<LogRecord, 'value'>): CommandOutcome {
  const outcome = JSON.parse(message.value?.toString('utf8') ?? '') as CommandOutcome | Omit<CommandOutcome, 'tenant'>;
  // Outcomes from before tenants are the default tenant's.
  return 'tenant' in outcome ? outcome : ({ ...outcome, tenant: defaultTenant } as CommandOutcome);
}

/** Where an outcome is remembered and looked up: a command id means something only within its tenant. */
export const outcomeKey = (tenant: string, commandId: string) => `${tenant}/${commandId}`;
