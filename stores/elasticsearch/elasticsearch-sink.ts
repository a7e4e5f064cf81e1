/**
 * The Elasticsearch sink: how the projector writes a projection version's index
 * (its names: elasticsearch-layout.ts).
 *
 * Writes are one `_bulk` per batch with external versioning (the aggregate
 * version): Elasticsearch itself refuses a write older than what it holds, so a
 * redelivered batch, a replay or a zombie owner cannot regress a document, and a
 * version conflict means the document is already at least as new.
 *
 * A checkpoint means "searchable", which is what a consistency-token read waits
 * for, so it is published apart from the batches: every refresh interval, while
 * batches were stored, the sink refreshes the index and then writes the checkpoints
 * of what was stored before that refresh. Batches never wait for a refresh, and the
 * offsets Kafka holds may run ahead of the published checkpoints by one interval;
 * at start `resume` refreshes and publishes the committed offsets, so a crash in that
 * interval leaves nothing behind. Checkpoint documents are externally versioned (by
 * offset) so they only move forward.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Config } from '../../shared/config.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { projectionId, type ProjectionVersion } from '../../shared/projection-id.js';
import type { Document, DocumentWrite, ProjectionSink, StoredDocument, StoreResult } from '../projection-sink.js';
import {
  checkpointDocumentId,
  checkpointsFound,
  elasticsearchNames,
  tenantField,
  withoutTenant,
  type CheckpointDocument,
  type ElasticsearchNames,
} from './elasticsearch-layout.js';

/** What the sink needs of an Elasticsearch projection: its version and its mappings. */
type IndexedProjection = ProjectionVersion & { mappings: estypes.MappingTypeMapping };

const alreadyExists = (error: unknown) =>
  (error as { body?: { error?: { type?: string } } }).body?.error?.type === 'resource_already_exists_exception';

async function createIndex(client: Client, request: estypes.IndicesCreateRequest): Promise<void> {
  if (await client.indices.exists({ index: request.index })) return;
  try {
    await client.indices.create(request);
  } catch (error) {
    if (!alreadyExists(error)) throw error;
  }
}

/**
 * Replicas of an index Strata creates: STRATA_ELASTICSEARCH_REPLICAS, else one where the
 * cluster has a second data node to hold it and none on a single node (whose index
 * would otherwise stay yellow, a replica with nowhere to go), as nodes come and go.
 */
const replicaSettings = (config: Pick<Config, 'elasticsearch'>): estypes.IndicesIndexSettings =>
  config.elasticsearch.replicas === undefined ? { auto_expand_replicas: '0-1' } : { number_of_replicas: config.elasticsearch.replicas };

/** Item statuses that no retry can fix: the document is dead-lettered. 409 is not one: it means "already newer". */
const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 409 && status !== 429;

/** Refreshes the index, then writes the checkpoints: what they cover is searchable by then. */
async function publishCheckpoints(
  client: Client,
  names: ElasticsearchNames,
  projection: ProjectionVersion,
  checkpoints: ReadonlyMap<number, bigint>,
): Promise<void> {
  if (checkpoints.size === 0) return;
  await client.indices.refresh({ index: names.index });
  const response = await client.bulk({
    operations: [...checkpoints].flatMap(([partition, offset]) => [
      { index: { _index: names.checkpoints, _id: checkpointDocumentId(projection, partition), version: Number(offset), version_type: 'external' as const } },
      { projection: projectionId(projection), partition, offset: Number(offset) } satisfies CheckpointDocument,
    ]),
  });
  // 409: a checkpoint at least as far along is already there.
  const failed = response.items.find((item) => item.index?.error !== undefined && item.index.status !== 409);
  if (failed !== undefined) throw new Error(`checkpoint not written: ${failed.index?.error?.reason ?? 'unknown'}`);
}

/** Publishes the checkpoints of stored batches every refresh interval (see the header). */
interface CheckpointPublisher {
  /** Notes that `partition` is stored up to `offset`; the next round publishes it. */
  stored(partition: number, offset: bigint): void;
  /** Publishes `committed`, and what is pending, now; throws if it cannot. */
  publishNow(committed: ReadonlyMap<number, bigint>): Promise<void>;
  /** Stops the rounds and publishes what is pending, if Elasticsearch can take it. */
  close(): Promise<void>;
}

function checkpointPublisher(
  publish: (checkpoints: ReadonlyMap<number, bigint>) => Promise<void>,
  refreshIntervalMs: number,
): CheckpointPublisher {
  /** Checkpoints of stored batches, not yet published (partition → offset). */
  const pending = new Map<number, bigint>();
  let timer: NodeJS.Timeout | undefined;
  let publishing: Promise<void> = Promise.resolve();
  let closed = false;

  /** Notes that `partition` is stored up to `offset`, unless a later offset is already noted. */
  const noteStored = (partition: number, offset: bigint) => {
    if ((pending.get(partition) ?? -1n) < offset) pending.set(partition, offset);
  };

  const takePending = () => {
    const taken = new Map(pending);
    pending.clear();
    return taken;
  };

  /** Takes what is pending and publishes it; on failure keeps it for the next round. */
  function publishPending(): Promise<void> {
    const taken = takePending();
    publishing = publishing
      .then(() => publish(taken))
      .catch(() => {
        for (const [partition, offset] of taken) noteStored(partition, offset);
        schedulePublish();
      });
    return publishing;
  }

  function schedulePublish(): void {
    if (timer !== undefined || closed || pending.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void publishPending();
    }, refreshIntervalMs);
  }

  return {
    stored(partition, offset) {
      noteStored(partition, offset);
      schedulePublish();
    },
    async publishNow(committed) {
      for (const [partition, offset] of committed) noteStored(partition, offset);
      await publish(takePending());
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await publishPending();
    },
  };
}

/** Creates the projection version's index (its mappings plus the tenant field) and the checkpoints index, if missing. */
async function prepareIndices(client: Client, config: Config, projection: IndexedProjection, names: ElasticsearchNames): Promise<void> {
  await createIndex(client, {
    index: names.index,
    settings: {
      number_of_shards: 1,
      ...replicaSettings(config),
      refresh_interval: `${String(config.projections.refreshIntervalMs)}ms`,
    },
    mappings: { ...projection.mappings, properties: { ...projection.mappings.properties, [tenantField]: { type: 'keyword' } } },
  });
  await createIndex(client, {
    index: names.checkpoints,
    settings: { number_of_shards: 1, ...replicaSettings(config) },
    mappings: {
      dynamic: 'strict',
      properties: { projection: { type: 'keyword' }, partition: { type: 'integer' }, offset: { type: 'long' } },
    },
  });
  // The first version of a projection goes live at once; later ones wait for a replay's swap.
  if (!(await client.indices.existsAlias({ name: names.alias }))) {
    await client.indices.putAlias({ index: names.index, name: names.alias });
  }
}

async function loadDocuments(client: Client, index: string, ids: readonly string[]): Promise<Map<string, StoredDocument>> {
  const loaded = new Map<string, StoredDocument>();
  if (ids.length === 0) return loaded;
  const response = await client.mget<Document>({ index, ids: [...ids] });
  for (const doc of response.docs) {
    if ('found' in doc && doc.found && doc._version !== undefined) {
      loaded.set(doc._id, { version: doc._version, document: doc._source === undefined ? undefined : withoutTenant(doc._source) });
    }
  }
  return loaded;
}

/**
 * Writes a batch in one `_bulk` with external versions; returns the writes refused for
 * good and throws if any was refused only for now.
 */
async function writeDocuments(client: Client, index: string, writes: readonly DocumentWrite[]): Promise<StoreResult['rejected']> {
  if (writes.length === 0) return [];
  const operations = writes.flatMap((write) => {
    const target = { _index: index, _id: write.id, version: write.version, version_type: 'external' as const };
    const document: Document = { ...write.document, [tenantField]: write.tenant };
    return write.document === null ? [{ delete: target }] : [{ index: target }, document];
  });
  const response = await client.bulk({ operations });
  return response.errors ? refusedWrites(response.items, writes) : [];
}

/** The writes a bulk response refused for good; throws if one was refused for now. */
function refusedWrites(items: estypes.BulkResponse['items'], writes: readonly DocumentWrite[]): StoreResult['rejected'] {
  const rejected: StoreResult['rejected'] = [];
  let transient: string | undefined;
  items.forEach((item, index) => {
    const result = item.index ?? item.delete;
    const write = writes[index];
    if (result?.error === undefined || write === undefined) return;
    const reason = `${result.error.type}: ${result.error.reason ?? ''}`;
    if (isPermanent(result.status)) rejected.push({ write, reason });
    else if (result.status !== 409) transient ??= reason;
  });
  // Retrying the whole batch is safe: what was stored answers 409 next time.
  if (transient !== undefined) throw new Error(`Elasticsearch refused part of a bulk request for now: ${transient}`);
  return rejected;
}

async function readCheckpoints(client: Client, index: string, ids: string[]): Promise<Map<number, bigint>> {
  // mget is real-time: a checkpoint is readable as soon as it is written, refresh or not.
  const response = await client.mget<CheckpointDocument>({ index, ids });
  return checkpointsFound(response.docs);
}

export function createElasticsearchSink(config: Config, projection: IndexedProjection): ProjectionSink {
  const names = elasticsearchNames(config, projection);
  // One attempt per call on each node (elasticsearch-client.ts): the projector's retry loop does the waiting.
  const client = createElasticsearch(config, { maxRetries: 0, requestTimeoutMs: 30_000 });
  const publisher = checkpointPublisher(
    (checkpoints) => publishCheckpoints(client, names, projection, checkpoints),
    config.projections.refreshIntervalMs,
  );

  return {
    prepare: () => prepareIndices(client, config, projection, names),
    resume: (committed) => publisher.publishNow(committed),
    load: (ids) => loadDocuments(client, names.index, ids),

    async store(writes, checkpoint): Promise<StoreResult> {
      const rejected = await writeDocuments(client, names.index, writes);
      if (checkpoint !== undefined) publisher.stored(checkpoint.partition, checkpoint.offset);
      return { conflicts: [], rejected };
    },

    checkpoints: () =>
      readCheckpoints(client, names.checkpoints, Array.from({ length: config.topics.partitions }, (_, partition) => checkpointDocumentId(projection, partition))),

    async close() {
      // The last batches' checkpoints, if Elasticsearch can take them; `resume` covers them otherwise.
      await publisher.close();
      await client.close();
    },
  };
}
