/**
 * What travels between the gateway and the command processors: a command record
 * on the commands topic, and its outcome on the command-results topic.
 */
import { createHash } from 'node:crypto';
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import stableStringify from 'safe-stable-stringify';
import type { LogRecord, OutgoingRecord } from '../shared/kafka/log-client.js';
import { defaultTenant, type Principal } from '../shared/auth/principal.js';
import { storedTenantSchema, streamKeyOf } from '../shared/auth/tenants.js';
import type { ProblemDetails } from '../shared/errors.js';
import { recordDecoder } from '../shared/record-decoder.js';

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

const principalSchema = Type.Object({
  subject: Type.String(),
  tenant: Type.String(),
  roles: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  clientId: Type.Optional(Type.String()),
});

/**
 * A command record as any version of Strata wrote it: those from before tenants name
 * none, those from before authentication have no principal, and one whose data was
 * undefined has no `data`.
 */
export const storedCommandSchema = Type.Object({
  commandId: Type.String(),
  commandType: Type.String(),
  tenant: Type.Optional(storedTenantSchema),
  aggregateType: Type.String(),
  aggregateId: Type.String(),
  expectedVersion: Type.Optional(Type.Number()),
  data: Type.Optional(Type.Unknown()),
  correlationId: Type.String(),
  submittedAt: Type.String(),
  principal: Type.Optional(principalSchema),
});

const storedCommand = recordDecoder('a command record', storedCommandSchema);

export function decodeCommand(message: Pick<LogRecord, 'value'>): CommandRecord {
  return commandOf(storedCommand(message.value));
}

/** A checked command record as the processor takes it: one from before tenants addresses the default one. */
export function commandOf(stored: Static<typeof storedCommandSchema>): CommandRecord {
  stored.tenant ??= defaultTenant;
  // All the type adds to the checked record is `data` always being there (an absent one reads as undefined).
  return stored as CommandRecord;
}

const problemSchema = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Number(), detail: Type.String(), instance: Type.Optional(Type.String()) });
const requestSchema = Type.Object({ commandType: Type.String(), sender: Type.String(), body: Type.String() });
const outcomeSchema = <Status extends TProperties>(status: Status) =>
  Type.Object({ commandId: Type.String(), tenant: Type.Optional(storedTenantSchema), aggregateId: Type.String(), request: Type.Optional(requestSchema), ...status });

/** An outcome as any version of Strata wrote it: outcomes from before tenants name none, those from before request binding have no request. */
export const storedOutcomeSchema = Type.Union([
  outcomeSchema({ status: Type.Literal('accepted'), version: Type.Number(), events: Type.Array(Type.String()), consistencyToken: Type.String() }),
  outcomeSchema({ status: Type.Literal('rejected'), problem: problemSchema }),
]);

/** A checked outcome as the platform takes it: one from before tenants is the default tenant's. */
export const outcomeOf = (stored: Static<typeof storedOutcomeSchema>): CommandOutcome => ({ ...stored, tenant: stored.tenant ?? defaultTenant });

export function encodeOutcome(outcome: CommandOutcome, partition: number): OutgoingRecord {
  return { key: outcome.commandId, value: JSON.stringify(outcome), partition };
}

const storedOutcome = recordDecoder('a command outcome', storedOutcomeSchema);

export function decodeOutcome(message: Pick<LogRecord, 'value'>): CommandOutcome {
  return outcomeOf(storedOutcome(message.value));
}

/** Where an outcome is remembered and looked up: a command id means something only within its tenant. */
export const outcomeKey = (tenant: string, commandId: string) => `${tenant}/${commandId}`;
