/**
 * Which versions of a projection exist, which one is live, and which one a replay
 * is building: the one place that knows, for both stores.
 *
 * A stored version N of a projection is built by one definition (the `version` of
 * the code that projected it). Usually N is that definition's version; a replay of
 * a definition that is already built takes the next free number, so the same code
 * can be rebuilt blue-green. The catalogue records which definition built each
 * version, in a Redis hash `<prefix>:<name>:catalogue` (Elasticsearch projections
 * too: Redis is where the platform keeps such small shared facts).
 *
 * What is live is the store's own pointer, which queries follow: the Redis key
 * `<prefix>:<name>:live`, the Elasticsearch alias `<prefix>-<name>`. Swapping it is
 * one atomic operation in either store.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config.js';
import { createElasticsearch } from '../shared/elasticsearch-client.js';
import { projectionId } from '../shared/projection-id.js';
import { createRedis } from '../shared/redis-client.js';
import { elasticsearchNames, indexVersion } from '../stores/elasticsearch/elasticsearch-layout.js';
import { redisNamespace } from '../stores/redis/redis-layout.js';
import type { Projection } from './projection.js';

type Versioned = Pick<Projection, 'name' | 'version' | 'store'>;

/** How long a replay's claim lasts without being renewed: a killed replay frees it this soon. */
export const replayClaimMs = 5_000;

export interface ProjectionCatalogue {
  /** The version queries read, or undefined when none is live yet. */
  liveVersion(projection: Pick<Projection, 'name' | 'store'>): Promise<number | undefined>;
  /** Makes `projection.version` the live one, atomically. */
  makeLive(projection: Versioned): Promise<void>;
  /**
   * A number that changes whenever a live pointer is swapped or a version dropped: one
   * cheap read tells a projector whether to look at every pointer again.
   */
  generation(): Promise<string>;
  /** The definition that built (or builds) version `version`; the version itself when unrecorded. */
  definitionOf(name: string, version: number): Promise<number>;
  recordBuild(name: string, version: number, definition: number): Promise<void>;
  /** Every version recorded as built, with its definition. */
  builds(name: string): Promise<Map<number, number>>;
  /** The version an unfinished replay was building, if any. */
  replayTarget(name: string): Promise<number | undefined>;
  setReplayTarget(name: string, version: number | undefined): Promise<void>;
  /** Takes the replay claim of `name` for `owner`; false when another live replay holds it. */
  claimReplay(name: string, owner: string): Promise<boolean>;
  /** Renews the claim; false if it was lost (it expired and someone else took it). */
  renewReplay(name: string, owner: string): Promise<boolean>;
  releaseReplay(name: string, owner: string): Promise<void>;
  /** The owner of a running replay of `name`, if one holds the claim. */
  replayOwner(name: string): Promise<string | undefined>;
  /** Deletes a version's documents, checkpoints and catalogue entry (not its consumer group: see projection-admin). */
  dropStorage(projection: Versioned): Promise<void>;
  close(): Promise<void>;
}

const renewScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** The live version of a Redis projection: its live pointer. */
async function redisLiveVersion(redis: Redis, config: Config, name: string): Promise<number | undefined> {
  const live = await redis.get(redisNamespace(config, { name, version: 0 }).livePointer);
  return live === null ? undefined : Number(live);
}

/** The live version of an Elasticsearch projection: the index its alias points at. */
async function elasticsearchLiveVersion(es: Client, config: Config, name: string): Promise<number | undefined> {
  const { alias } = elasticsearchNames(config, { name, version: 0 });
  if (!(await es.indices.existsAlias({ name: alias }))) return undefined;
  const indices = Object.keys(await es.indices.getAlias({ name: alias }));
  return indexVersion(indices[0] ?? '');
}

async function swapAlias(es: Client, config: Config, projection: Versioned): Promise<void> {
  const { alias, index } = elasticsearchNames(config, projection);
  const current = (await es.indices.existsAlias({ name: alias })) ? Object.keys(await es.indices.getAlias({ name: alias })) : [];
  // One request: queries see the old index or the new one, never neither.
  await es.indices.updateAliases({
    actions: [...current.filter((old) => old !== index).map((old) => ({ remove: { index: old, alias } })), { add: { index, alias } }],
  });
}

/** Deletes every key of a Redis projection version. */
async function dropRedisVersion(redis: Redis, config: Config, projection: Versioned): Promise<void> {
  const { prefix } = redisNamespace(config, projection);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Deletes an Elasticsearch projection version's index and its checkpoint documents. */
async function dropElasticsearchVersion(es: Client, config: Config, projection: Versioned): Promise<void> {
  const names = elasticsearchNames(config, projection);
  await es.indices.delete({ index: names.index, ignore_unavailable: true });
  if (!(await es.indices.exists({ index: names.checkpoints }))) return;
  // delete_by_query is not in the minimal distribution: find the ids, delete them in bulk.
  const found = await es.search({ index: names.checkpoints, size: 10_000, _source: false, query: { term: { projection: projectionId(projection) } } });
  const existing = found.hits.hits.map((hit) => hit._id).filter((id): id is string => id !== undefined);
  if (existing.length > 0) {
    await es.bulk({ refresh: true, operations: existing.map((id) => ({ delete: { _index: names.checkpoints, _id: id } })) });
  }
}

/** Who replays a projection: a claim in Redis that lapses unless its owner renews it. */
function replayClaims(redis: Redis, claimKey: (name: string) => string): Pick<ProjectionCatalogue, 'claimReplay' | 'renewReplay' | 'releaseReplay' | 'replayOwner'> {
  return {
      async claimReplay(name, owner) {
        return (await redis.set(claimKey(name), owner, 'PX', replayClaimMs, 'NX')) === 'OK';
      },

      async renewReplay(name, owner) {
        return Number(await redis.eval(renewScript, 1, claimKey(name), owner, String(replayClaimMs))) === 1;
      },

      async releaseReplay(name, owner) {
        await redis.eval(releaseScript, 1, claimKey(name), owner);
      },

      async replayOwner(name) {
        return (await redis.get(claimKey(name))) ?? undefined;
      },
  };
}

export function createProjectionCatalogue(config: Config): ProjectionCatalogue {
  const redis: Redis = createRedis(config, { connectionName: 'strata-catalogue' });
  redis.on('error', () => undefined);
  let elasticsearch: Client | undefined;
  const es = () => (elasticsearch ??= createElasticsearch(config, { requestTimeoutMs: 10_000 }));
  const catalogueKey = (name: string) => `${config.topics.prefix}:${name}:catalogue`;
  const claimKey = (name: string) => `${config.topics.prefix}:${name}:replay-claim`;
  const generationKey = `${config.topics.prefix}:projections:generation`;

  return {
    async liveVersion(projection) {
      return projection.store === 'redis' ? redisLiveVersion(redis, config, projection.name) : elasticsearchLiveVersion(es(), config, projection.name);
    },

    async generation() {
      return (await redis.get(generationKey)) ?? '0';
    },

    async makeLive(projection) {
      if (projection.store === 'redis') await redis.set(redisNamespace(config, projection).livePointer, String(projection.version));
      else await swapAlias(es(), config, projection);
      await redis.incr(generationKey);
    },

    async definitionOf(name, version) {
      const recorded = await redis.hget(catalogueKey(name), `built:${String(version)}`);
      return recorded === null ? version : Number(recorded);
    },

    async recordBuild(name, version, definition) {
      await redis.hsetnx(catalogueKey(name), `built:${String(version)}`, String(definition));
    },

    async builds(name) {
      const fields = await redis.hgetall(catalogueKey(name));
      return new Map(
        Object.entries(fields)
          .filter(([field]) => field.startsWith('built:'))
          .map(([field, definition]) => [Number(field.slice('built:'.length)), Number(definition)]),
      );
    },

    async replayTarget(name) {
      const target = await redis.hget(catalogueKey(name), 'replaying');
      return target === null ? undefined : Number(target);
    },

    async setReplayTarget(name, version) {
      if (version === undefined) await redis.hdel(catalogueKey(name), 'replaying');
      else await redis.hset(catalogueKey(name), 'replaying', String(version));
    },

    ...replayClaims(redis, claimKey),

    async dropStorage(projection) {
      if (projection.store === 'redis') await dropRedisVersion(redis, config, projection);
      else await dropElasticsearchVersion(es(), config, projection);
      await redis.hdel(catalogueKey(projection.name), `built:${String(projection.version)}`);
      await redis.incr(generationKey);
    },

    async close() {
      await redis.quit().catch(() => { redis.disconnect(); });
      await elasticsearch?.close();
    },
  };
}
