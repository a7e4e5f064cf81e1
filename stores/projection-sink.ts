/**
 * What the projector needs of a store, whatever it is: load documents with their
 * versions, apply a batch of writes together with the partition's checkpoint, and
 * read the checkpoints back (the query side waits on them, `status` reports them).
 * The documents, writes and checkpoints here are what both sides of a store speak in.
 *
 * A store that cannot be reached throws; the projector retries with backoff and
 * never skips. A write the store refuses for good (a document its mapping rejects)
 * comes back in `rejected` and is dead-lettered.
 */
import type { EventEnvelope } from '../shared/event-envelope.js';

export type Document = Record<string, unknown>;

/** A change to a shared key of the projection's Redis namespace. */
export type RedisEffect =
  /** Adds `member` with `score`; with `keepHighest`, trims the set to that many highest scores. */
  | { type: 'sortedSetAdd'; key: string; member: string; score: number; keepHighest?: number }
  | { type: 'sortedSetIncrement'; key: string; member: string; by: number };

export interface StoredDocument {
  version: number;
  /** Undefined once deleted: the version stays, so that older events cannot bring it back. */
  document: Document | undefined;
}

export interface DocumentWrite {
  /** The document's id in the store: its aggregate's, in its tenant (`documentIdOf`). */
  id: string;
  tenant: string;
  /** The version the store must still hold for the write to apply; 0 for none. */
  expectedVersion: number;
  version: number;
  document: Document | null;
  effects: RedisEffect[];
  /** The events folded into this write, for dead-lettering them if the store refuses the document. */
  events: EventEnvelope[];
}

export interface Checkpoint {
  partition: number;
  /** The next events-topic offset to project: everything before it is stored. */
  offset: bigint;
}

/** Partition → the next offset the projection will read (everything below is stored). */
export type Checkpoints = ReadonlyMap<number, bigint>;

export interface StoreResult {
  /** Documents another writer changed since they were loaded (a zombie owner): reload and plan again. */
  conflicts: string[];
  rejected: { write: DocumentWrite; reason: string }[];
}

export interface ProjectionSink {
  /** Creates the index or namespace if it is missing. */
  prepare(): Promise<void>;
  /**
   * Called at start with the consumer group's committed offsets: everything below them
   * was stored before, so checkpoints may stand there (a store whose checkpoints trail
   * its writes catches them up).
   */
  resume(committed: ReadonlyMap<number, bigint>): Promise<void>;
  load(ids: readonly string[]): Promise<Map<string, StoredDocument>>;
  /**
   * The checkpoint advances only when there is no conflict; without one (a dead
   * letter retried out of band) only the documents change.
   */
  store(writes: readonly DocumentWrite[], checkpoint?: Checkpoint): Promise<StoreResult>;
  checkpoints(): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}
