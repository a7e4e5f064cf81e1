/**
 * What travels between the gateway and the command processors: a command record
 * on the commands topic, and its outcome on the command-results topic.
 */
import { createHash } from 'node:crypto';
import stableStringify from 'safe-stable-stringify';
import type { LogRecord, OutgoingRecord } from '../shared/kafka/log-client.js';
import { defaultTenant, type Principal } from '../shared/auth/principal.js';
import { storedTenantPattern, streamKeyOf } from '../shared/auth/tenants.js';
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

/**
 * What an Idempotency-Key is bound to, besides the aggregate: the same key with another
 * of these is another command (idempotencyKeyReuse). Outcomes carry it from the
 * processor; those rebuilt from the log, or written before, do not.
 */
export interface CommandRequest {
  commandType: string;
  /** The sender's subject. */
  sender: string;
  /** A digest of the body's data and expected version, whatever the order of its keys. */
  body: string;
}

type Outcome<Status> = { commandId: string; tenant: string; aggregateId: string; request?: CommandRequest } & Status;

export type CommandOutcome =
  | Outcome<{ status: 'accepted'; version: number; events: string[]; consistencyToken: string }>
  | Outcome<{ status: 'rejected'; problem: ProblemDetails }>;

const bodyDigest = (data: unknown, expectedVersion: number | undefined) =>
  createHash('sha256').update(stableStringify({ data, expectedVersion }) ?? '').digest('base64url').slice(0, 22);

export const requestOf = (command: Pick<CommandRecord, 'commandType' | 'data' | 'expectedVersion' | 'principal'>): CommandRequest => ({
  commandType: command.commandType,
  sender: command.principal?.subject ?? '',
  body: bodyDigest(command.data, command.expectedVersion),
});

/** What differs between a known outcome's command and another sent with its key; nothing: the same command again. */
export function idempotencyKeyReuse(known: CommandOutcome, command: Pick<CommandRecord, 'aggregateId'> & { request: CommandRequest }): string[] {
  const differs = known.aggregateId === command.aggregateId ? [] : ['aggregateId'];
  if (known.request === undefined) return differs;
  for (const field of ['commandType', 'sender', 'body'] as const) if (known.request[field] !== command.request[field]) differs.push(field);
  return differs;
}

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
  else if (typeof record.tenant !== 'string' || !storedTenantPattern.test(record.tenant)) throw new MalformedRecordError('the command record has no valid tenant');
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
