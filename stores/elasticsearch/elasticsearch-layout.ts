/**
 * Where a projection lives in Elasticsearch, for the sink that writes it and the
 * read model that searches it. Each projection version has its own index,
 * `<prefix>-<name>-v<version>`, behind the alias `<prefix>-<name>` that queries
 * read; a new version is built beside the live one and the alias swapped later.
 * Every document carries its tenant in `strata_tenant` (a keyword the platform adds
 * to the projection's mappings; the query side filters on it) and its id is
 * `<tenant>/<aggregate id>`: the projection itself never sees either.
 *
 * Checkpoints are documents of one shared index, one per projection version and
 * partition.
 */
import type { estypes } from '@elastic/elasticsearch';
import type { Config } from '../../shared/config.js';
import { projectionId, type ProjectionVersion } from '../../shared/projection-id.js';
import type { Document } from '../projection-sink.js';

/** The field of an Elasticsearch document that holds its tenant: the platform's, not the projection's to map. */
export const tenantField = 'strata_tenant';

/** A stored document as the projection made it, without the platform's field. */
export function withoutTenant(source: Document): Document {
  const { [tenantField]: _tenant, ...document } = source;
  return document;
}

export interface ElasticsearchNames {
  index: string;
  alias: string;
  checkpoints: string;
}

/** What the names of a deployment's indices start with: its prefix, as index names may be. */
export const elasticsearchIndexPrefix = (config: Pick<Config, 'topics'>) =>
  // Index names are lower case and may not start with '_', '-' or '+'.
  config.topics.prefix.toLowerCase().replace(/^[-_+]+/, '') || 'strata';

export function elasticsearchNames(config: Pick<Config, 'topics'>, projection: ProjectionVersion): ElasticsearchNames {
  const prefix = elasticsearchIndexPrefix(config);
  return {
    index: `${prefix}-${projection.name}-v${String(projection.version)}`,
    alias: `${prefix}-${projection.name}`,
    checkpoints: `${prefix}-projection-checkpoints`,
  };
}

/** The projection version a version's index is of (`<prefix>-<name>-v<version>`), if `index` is one. */
export function indexVersion(index: string): number | undefined {
  const version = /-v(\d+)$/.exec(index)?.[1];
  return version === undefined ? undefined : Number(version);
}

/** A checkpoint document: the partition's next offset to project (also its external version). */
export interface CheckpointDocument {
  /** The projection version's `projectionId`. */
  projection: string;
  partition: number;
  offset: number;
}

/** The id of a projection version's checkpoint document for one partition. */
export const checkpointDocumentId = (projection: ProjectionVersion, partition: number) =>
  `${projectionId(projection)}.${String(partition)}`;

/** The checkpoints an mget of checkpoint documents found. */
export const checkpointsFound = (docs: readonly estypes.MgetResponseItem<CheckpointDocument>[]): Map<number, bigint> =>
  new Map(
    docs.flatMap((doc) =>
      'found' in doc && doc.found && doc._source ? [[doc._source.partition, BigInt(doc._source.offset)] as const] : [],
    ),
  );
