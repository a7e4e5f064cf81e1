/**
 * Runs an app's declared queries, for HTTP and gRPC alike so that both answer the
 * same. Given a consistency token, a query first waits until every projection it
 * reads has passed the token's offsets. Every store call goes through its backend's
 * circuit breaker, and a query reads only the projections it declares.
 *
 * Each answer's ETag is a digest of the answer itself: it changes exactly when the
 * answer does, whatever the query reads.
 */
import type { AccessControl } from '../shared/auth/access-control.js';
import { defaultTenant, type Principal } from '../shared/auth/principal.js';
import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config.js';
import { internalSecret } from '../shared/auth/internal-credential.js';
import { consistencyTokens } from '../shared/consistency-token.js';
import { projectionId } from '../shared/projection-id.js';
import type { Projection } from '../projections/projection.js';
import type { BackendBreaker, BreakerState } from '../shared/backend-breaker.js';
import { elasticsearchReadModel, type ElasticsearchReadModel } from '../stores/elasticsearch/elasticsearch-read-model.js';
import type { Document } from '../stores/projection-sink.js';
import { redisReadModels, type RedisReadModel, type VersionedDocument } from '../stores/redis/redis-read-model.js';
import { checkpointWatch, type CheckpointWatch } from './checkpoint-watch.js';
import type { Query, ReadContext, SearchPage, Versioned } from './query-definition.js';
import { withDefaults } from './query-params.js';
import { decodeCursor, encodeCursor, queryBinding } from './search-cursor.js';
import { searchRequest } from './search-requests.js';
import { waitingReads } from './waiting-reads.js';

export interface Answer {
  body: unknown;
  etag: string;
}

/** What every query takes besides its own parameters. */
export interface ReadOptions {
  /** Who asks, authenticated by the front door. */
  principal: Principal;
  /** X-Consistency-Token: wait until the read models have this write. */
  consistencyToken?: string | undefined;
}

export interface QueryRuntime {
  readonly queries: readonly Query[];
  /** Runs `query` with parameters already validated against its schema. */
  run(query: Query, params: Record<string, unknown>, options: ReadOptions): Promise<Answer>;
  breakerStates(): Record<string, BreakerState>;
  /**
   * Runs once, outside the breakers and with a long timeout, every query that reads
   * Elasticsearch and needs no parameter: a cold Elasticsearch takes seconds over its
   * first searches (the facets' global ordinals), longer than a read may wait. Never
   * fails: a store that is down or an index not yet made has nothing to warm.
   */
  warmUp(): Promise<void>;
  stop(): void;
}

const warmUpTimeoutMs = 30_000;

const digestEtag = (body: unknown) => `"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 27)}"`;
const withVersion = <Doc extends Document>({ document, version }: VersionedDocument): Versioned<Doc> => ({ ...(document as Doc), version });

/** One projection as the runtime reads it: its store's model, its breaker, its checkpoint watch. */
interface ProjectionReader {
  projection: Projection;
  redis?: RedisReadModel;
  elasticsearch?: ElasticsearchReadModel;
  breaker: BackendBreaker;
  watch: CheckpointWatch;
}

interface QueryRuntimeDeps {
  config: Config;
  queries: readonly Query[];
  redis: Redis;
  elasticsearch: Client;
  breakers: { redis: BackendBreaker; elasticsearch: BackendBreaker };
  access: AccessControl;
}

/** A reader per projection the queries read, by projection id. */
function projectionReaders(deps: QueryRuntimeDeps): Map<string, ProjectionReader> {
  const { config, breakers } = deps;
  const redisModel = redisReadModels(deps.redis);
  const readers = new Map<string, ProjectionReader>();
  for (const projection of deps.queries.flatMap((query) => query.reads)) {
    const id = projectionId(projection);
    if (readers.has(id)) continue;
    const breaker = projection.store === 'redis' ? breakers.redis : breakers.elasticsearch;
    const redis = projection.store === 'redis' ? redisModel(config, projection) : undefined;
    const elasticsearch = projection.store === 'elasticsearch' ? elasticsearchReadModel(deps.elasticsearch, config, projection) : undefined;
    const checkpoints = () => (redis ?? elasticsearch)?.checkpoints() ?? Promise.resolve(new Map<number, bigint>());
    const watch = checkpointWatch({
      projection: id,
      partitions: config.topics.partitions,
      pollMs: config.readSide.consistencyPollMs,
      read: () => breaker.run(checkpoints),
    });
    readers.set(id, { projection, breaker, watch, ...(redis === undefined ? {} : { redis }), ...(elasticsearch === undefined ? {} : { elasticsearch }) });
  }
  return readers;
}

/** One run of a query for a tenant; `direct` (the warm-up) bypasses the breakers with a long timeout. */
interface QueryRun {
  query: Query;
  params: Record<string, unknown>;
  tenant: string;
  direct: boolean;
}

/** A read of `reader`'s store, through its breaker unless the run is direct. */
const through = <T>(run: QueryRun, reader: ProjectionReader, read: () => Promise<T>) => (run.direct ? read() : reader.breaker.run(read));

/** A page of a search of `tenant`'s documents, with the signed cursor of the next one. */
async function searchPage<Doc extends Document>(
  run: QueryRun,
  reader: ProjectionReader,
  spec: Parameters<ReadContext['search']>[1],
  secret: string,
): Promise<SearchPage<Doc>> {
  const model = reader.elasticsearch as ElasticsearchReadModel;
  // A cursor is bound to the tenant that received it as to the search's filters.
  const binding = queryBinding(run.query.name, run.tenant, run.params);
  const after = spec.cursor === undefined ? undefined : decodeCursor(secret, binding, spec.cursor);
  const request = searchRequest(spec, run.tenant, after);
  const answer = await through(run, reader, () => model.search(request, run.direct ? warmUpTimeoutMs : undefined));
  const last = answer.hits[spec.size - 1];
  return {
    hits: answer.hits.slice(0, spec.size).map(({ document, version }) => ({ ...(document as Doc), version })),
    total: answer.total,
    facets: answer.facets,
    nextCursor: answer.hits.length > spec.size && last !== undefined ? encodeCursor(secret, binding, last.sort) : null,
  };
}

/** The reads of one run of a query: only its tenant's documents, whatever the query asks for. */
function readContext(readers: ReadonlyMap<string, ProjectionReader>, secret: string, run: QueryRun): ReadContext {
  const { query, tenant } = run;
  const declared = new Set(query.reads.map(projectionId));
  const readerOf = (projection: Projection, store: Projection['store']) => {
    const reader = readers.get(projectionId(projection));
    if (reader === undefined || !declared.has(projectionId(projection))) {
      throw new Error(`query ${query.name} reads projection ${projection.name}, which it does not declare in reads`);
    }
    if (projection.store !== store) throw new Error(`query ${query.name}: projection ${projection.name} is not in ${store}`);
    return reader;
  };
  const redisOf = (projection: Projection) => {
    const reader = readerOf(projection, 'redis');
    return { reader, model: reader.redis as RedisReadModel };
  };
  return {
    async document<Doc extends Document>(projection: Projection, id: string) {
      const { reader, model } = redisOf(projection);
      const { value } = await through(run, reader, () => model.document(tenant, id));
      return value === undefined ? undefined : withVersion<Doc>(value);
    },
    async list<Doc extends Document>(projection: Projection, sortedSet: string, limit: number) {
      const { reader, model } = redisOf(projection);
      const { value } = await through(run, reader, () => model.listed(tenant, sortedSet, limit));
      return value.map((entry) => withVersion<Doc>(entry));
    },
    async ranking(projection, sortedSet, limit) {
      const { reader, model } = redisOf(projection);
      return (await through(run, reader, () => model.ranking(tenant, sortedSet, limit))).value;
    },
    async search<Doc extends Document>(projection: Projection, spec: Parameters<ReadContext['search']>[1]) {
      return searchPage<Doc>(run, readerOf(projection, 'elasticsearch'), spec, secret);
    },
  };
}

export function createQueryRuntime(deps: QueryRuntimeDeps): QueryRuntime {
  const { config, breakers } = deps;
  const secret = config.readSide.cursorSecret;
  const tokens = consistencyTokens(internalSecret(config));
  const waiting = waitingReads(config.readSide.maxWaiting);
  const readers = projectionReaders(deps);

  return {
    queries: deps.queries,

    async run(query, params, options) {
      // Before anything is read: a principal who may not run it learns nothing.
      deps.access.authorize(query.access, options.principal, params, `run ${query.name}`);
      const token = options.consistencyToken;
      if (token !== undefined) {
        const offsets = tokens.decode(token, options.principal.tenant);
        await waiting.hold(options.principal.tenant, () =>
          Promise.all(query.reads.map(async (projection) => { await readers.get(projectionId(projection))?.watch.waitFor(offsets, config.readSide.consistencyWaitMs); })),
        );
      }
      const body = await query.run(params, readContext(readers, secret, { query, params, tenant: options.principal.tenant, direct: false }));
      return { body, etag: digestEtag(body) };
    },

    breakerStates: () => ({ redis: breakers.redis.state(), elasticsearch: breakers.elasticsearch.state() }),

    async warmUp() {
      const searching = deps.queries.filter((query) => query.reads.some((projection) => projection.store === 'elasticsearch'));
      await Promise.all(
        searching.map(async (query) => {
          const params = withDefaults(query);
          if (params !== undefined) await query.run(params, readContext(readers, secret, { query, params, tenant: defaultTenant, direct: true })).catch(() => undefined);
        }),
      );
    },

    stop() {
      for (const reader of readers.values()) reader.watch.stop();
    },
  };
}
