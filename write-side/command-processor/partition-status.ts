/**
 * What each command partition's owner is doing, as the processors publish it on the
 * status topic (compacted, keyed by partition) and the gateways and
 * `strata processors status` read it. Pure: the record, its codec, and whether a
 * partition is served now.
 *
 * An owner republishes its record every `statusRefreshMs`; a record older than
 * `statusStaleMs` means its process is gone (killed, paused, cut off), the same bound
 * after which the consumer group gives the partition to another process. Ages are
 * taken between the processor's and the reader's clocks, which are assumed to agree
 * within a second (NTP).
 */
import { Type } from '@sinclair/typebox';
import type { Config } from '../../shared/config.js';
import { recordDecoder } from '../../shared/record-decoder.js';

const ownerPhases = ['fencing', 'rebuilding', 'serving', 'failed', 'released'] as const;
export type OwnerPhase = (typeof ownerPhases)[number];

export interface PartitionStatus {
  partition: number;
  /** The processor process: `host:pid`. */
  owner: string;
  /** Where the owner takes commands directly (gRPC `host:port`), when it does. */
  address?: string;
  phase: OwnerPhase;
  /** When the owner entered this phase (ISO). */
  since: string;
  /** When this record was written (ISO): its freshness. */
  at: string;
  /** Events offset the rebuild started from (the last checkpoint). */
  checkpoint?: string;
  /** Events offsets the rebuild has read so far, and in all (commit markers included). */
  rebuilt?: string;
  rebuildEnd?: string;
  /** Events folded into the state by the rebuild. */
  replayed?: number;
  /** Why the last attempt to take the partition failed. */
  error?: string;
}

export const statusRefreshMs = (config: Pick<Config, 'kafka'>) => Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 4));
export const statusStaleMs = (config: Pick<Config, 'kafka'>) => config.kafka.sessionTimeoutMs + statusRefreshMs(config);

export function encodeStatus(status: PartitionStatus): { key: string; value: string } {
  return { key: String(status.partition), value: JSON.stringify(status) };
}

const statusRecord = recordDecoder(
  'a partition status',
  Type.Object({
    partition: Type.Integer({ minimum: 0 }),
    owner: Type.String(),
    address: Type.Optional(Type.String()),
    phase: Type.Union(ownerPhases.map((phase) => Type.Literal(phase))),
    since: Type.String(),
    at: Type.String(),
    checkpoint: Type.Optional(Type.String()),
    rebuilt: Type.Optional(Type.String()),
    rebuildEnd: Type.Optional(Type.String()),
    replayed: Type.Optional(Type.Number()),
    error: Type.Optional(Type.String()),
  }),
);

/** A status-topic record; undefined for a tombstone or a record that is not a status. */
export function decodeStatus(value: Buffer | null): PartitionStatus | undefined {
  if (value === null) return undefined;
  try {
    return statusRecord(value);
  } catch {
    return undefined;
  }
}

/** Whether the record says its partition is served now: an owner has rebuilt and is alive. */
export function isServing(status: PartitionStatus | undefined, now: number, staleMs: number): boolean {
  return status?.phase === 'serving' && now - Date.parse(status.at) <= staleMs;
}

/** The partitions (of `partitions`) that no live owner serves. */
export function unservedPartitions(
  statuses: ReadonlyMap<number, PartitionStatus>,
  partitions: number,
  now: number,
  staleMs: number,
): number[] {
  return Array.from({ length: partitions }, (_, partition) => partition).filter(
    (partition) => !isServing(statuses.get(partition), now, staleMs),
  );
}

/**
 * Folds a record into the latest status per partition. A `released` record from an
 * owner that is no longer the one on record (a fenced or late process) changes
 * nothing: the new owner's records stand; nor does an owner's record older than the
 * one on record.
 */
export function applyStatus(statuses: Map<number, PartitionStatus>, status: PartitionStatus): void {
  const current = statuses.get(status.partition);
  if (status.phase === 'released' && current !== undefined && current.owner !== status.owner) return;
  // An owner's records are applied in the order it wrote them, whatever order they arrive in.
  if (current !== undefined && current.owner === status.owner && Date.parse(status.at) < Date.parse(current.at)) return;
  statuses.set(status.partition, status);
}
