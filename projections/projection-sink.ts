/**
 * What the projector needs of a store, whatever it is: load documents with their
 * versions, apply a batch of writes together with the partition's checkpoint, and
 * read the checkpoints back (the query side waits on them, `status` reports them).
 *
 * A store that cannot be reached throws; the projector retries with backoff and
 * never skips. A write the store refuses for good (a document its mapping rejects)
 * comes back in `rejected` and is dead-lettered.
 */
import type { DocumentWrite, StoredDocument } from './batch-plan.js';

export interface Checkpoint {
  partition: number;
  /** The next events-topic offset to project: everything before it is stored. */
  offset: bigint;
}

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
