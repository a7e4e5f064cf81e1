/**
 * Reading the snapshots topic (partition-rebuild.ts): a stream's state, or a
 * partition checkpoint, as batch-settlement.ts writes them.
 */
import { Type } from '@sinclair/typebox';
import { defaultTenant } from '../../shared/auth/principal.js';
import { storedTenantSchema } from '../../shared/auth/tenants.js';
import { recordDecoder } from '../../shared/record-decoder.js';
import { outcomeOf, storedOutcomeSchema } from '../command-record.js';
import type { SnapshotRecord } from './partition-state.js';

/**
 * A stream's snapshot as any version of Strata wrote it: those from before tenants
 * name none (nor do their outcomes), those from before event schemas evolved have no
 * `eventSchemas`, and one whose state was undefined has no `state`.
 */
const streamSnapshotSchema = Type.Object({
  kind: Type.Literal('stream'),
  eventSchemas: Type.Optional(Type.String()),
  tenant: Type.Optional(storedTenantSchema),
  aggregateType: Type.String(),
  aggregateId: Type.String(),
  version: Type.Integer({ minimum: 0 }),
  state: Type.Optional(Type.Unknown()),
  recent: Type.Array(storedOutcomeSchema),
});

const checkpointSchema = Type.Object({ kind: Type.Literal('checkpoint'), eventsOffset: Type.String({ pattern: '^[0-9]+$' }) });

const snapshotRecord = recordDecoder('a snapshot record', Type.Union([streamSnapshotSchema, checkpointSchema]));

/** A snapshots-topic record; null for a tombstone. MalformedRecordError for anything else. */
export function decodeSnapshot(value: Buffer | null): SnapshotRecord | null {
  if (value === null) return null;
  const record = snapshotRecord(value);
  if (record.kind === 'checkpoint') return record;
  return { ...record, tenant: record.tenant ?? defaultTenant, state: record.state, recent: record.recent.map(outcomeOf) };
}
