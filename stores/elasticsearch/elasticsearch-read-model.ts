/**
 * Reads of the Elasticsearch read models: searches through the projection's alias
 * (so a replay's alias swap moves every read at once), and the checkpoints of the
 * version the alias points at (its names: elasticsearch-layout.ts).
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Config } from '../../shared/config.js';
import type { ProjectionVersion } from '../../shared/projection-id.js';
import type { Checkpoints, Document } from '../projection-sink.js';
import {
  checkpointDocumentId,
  checkpointsFound,
  elasticsearchNames,
  indexVersion,
  withoutTenant,
  type CheckpointDocument,
} from './elasticsearch-layout.js';

/** Where a hit stands in its search's order: what `search_after` resumes from. */
export type SortValues = readonly (string | number)[];

export interface SearchHit {
  version: number;
  document: Document;
  sort: SortValues;
}

export interface SearchAnswer {
  hits: SearchHit[];
  total: number;
  /** Bucket counts of each terms aggregation, by key, in Elasticsearch's order. */
  facets: Record<string, { key: string; count: number }[]>;
}

export interface ElasticsearchReadModel {
  /** A search; `requestTimeoutMs` replaces the client's own timeout for this one. */
  search(request: estypes.SearchRequest, requestTimeoutMs?: number): Promise<SearchAnswer>;
  checkpoints(): Promise<Checkpoints>;
}

type Buckets = estypes.AggregationsStringTermsAggregate;

export function elasticsearchReadModel(
  client: Client,
  config: Pick<Config, 'topics'>,
  projection: ProjectionVersion,
): ElasticsearchReadModel {
  const names = elasticsearchNames(config, projection);
  return {
    async search(request, requestTimeoutMs) {
      let response;
      try {
        response = await client.search<Document>(
          {
            ...request,
            index: names.alias,
            // Only what the answer uses: less for Elasticsearch to write and for us to parse.
            filter_path: ['hits.total', 'hits.hits._source', 'hits.hits._version', 'hits.hits.sort', 'aggregations.*.buckets'],
          },
          requestTimeoutMs === undefined ? {} : { requestTimeout: requestTimeoutMs },
        );
      } catch (error) {
        // No projector has made the read model yet: nothing has been projected, so nothing is found.
        if ((error as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return { hits: [], total: 0, facets: {} };
        throw error;
      }
      // filter_path drops what is empty: no hits means no `hits.hits`, no aggregations no `aggregations`.
      const total = response.hits.total;
      const facets: SearchAnswer['facets'] = {};
      for (const [name, aggregate] of Object.entries(response.aggregations ?? {})) {
        const buckets = (aggregate as Buckets).buckets;
        facets[name] = (Array.isArray(buckets) ? buckets : []).map((bucket) => ({ key: String(bucket.key), count: bucket.doc_count }));
      }
      return {
        hits: ((response.hits.hits as typeof response.hits.hits | undefined) ?? []).map((hit) => ({
          version: hit._version ?? 0,
          document: withoutTenant(hit._source ?? {}),
          sort: (hit.sort ?? []) as SortValues,
        })),
        total: typeof total === 'number' ? total : (total?.value ?? 0),
        facets,
      };
    },

    async checkpoints() {
      // The alias names the live index, `<prefix>-<name>-v<version>`; its version's checkpoints are the ones that count.
      let index: string | undefined;
      try {
        index = Object.keys(await client.indices.getAlias({ name: names.alias }))[0];
      } catch (error) {
        if ((error as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return new Map();
        throw error;
      }
      const live = indexVersion(index ?? '') ?? projection.version;
      const ids = Array.from({ length: config.topics.partitions }, (_, partition) => checkpointDocumentId({ name: projection.name, version: live }, partition));
      const response = await client.mget<CheckpointDocument>({ index: names.checkpoints, ids, realtime: true });
      return checkpointsFound(response.docs);
    },
  };
}
