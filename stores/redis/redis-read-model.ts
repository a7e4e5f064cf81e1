/**
 * Reads of the Redis read models, always from the projection's live version.
 *
 * Each read is one Lua script that follows the live pointer and reads the
 * documents in the same step, so a read never mixes two versions while a replay
 * swaps the pointer. The scripts derive keys from the pointer they read, which a
 * single Redis node allows (a cluster would need the keys declared up front).
 * Every read names its tenant, and reaches only that tenant's names (redis-layout.ts).
 */
import type { Redis } from 'ioredis';
import { scoped } from '../../shared/auth/tenants.js';
import type { Config } from '../../shared/config.js';
import type { ProjectionVersion } from '../../shared/projection-id.js';
import type { Checkpoints, Document } from '../projection-sink.js';
import { checkpointKey, documentKey, redisNamespace } from './redis-layout.js';

/** A stored document and its version (the aggregate's). */
export interface VersionedDocument<Doc = Document> {
  version: number;
  document: Doc;
}

/** The script body runs with `live` (the live version) and `ns` (its key prefix); no live version → nil. */
const inLiveVersion = (body: string) => `
local live = redis.call('GET', KEYS[1])
if not live then return false end
local ns = ARGV[1] .. 'v' .. live .. ':'
${body}`;

// ARGV: base, document key.
const documentScript = inLiveVersion(`
local doc = redis.call('HMGET', ns .. ARGV[2], 'v', 'd')
return {live, doc[1], doc[2]}`);

// ARGV: base, sorted set key, count, document key prefix. Highest scores first, each with its document.
const listScript = inLiveVersion(`
local ids = redis.call('ZREVRANGE', ns .. ARGV[2], 0, tonumber(ARGV[3]) - 1)
local out = {live}
for _, id in ipairs(ids) do
  local doc = redis.call('HMGET', ns .. ARGV[4] .. id, 'v', 'd')
  out[#out + 1] = id
  out[#out + 1] = doc[1]
  out[#out + 1] = doc[2]
end
return out`);

// ARGV: base, sorted set key, count. Members with a positive score, highest first, with scores.
const rankingScript = inLiveVersion(`
local out = redis.call('ZREVRANGEBYSCORE', ns .. ARGV[2], '+inf', '(0', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
table.insert(out, 1, live)
return out`);

// ARGV: base, checkpoint key.
const checkpointsScript = inLiveVersion(`
local out = redis.call('HGETALL', ns .. ARGV[2])
table.insert(out, 1, live)
return out`);

type Script = (pointer: string, ...args: (string | number)[]) => Promise<(string | null)[] | null>;

/** What a read found, and in which version of the projection (0: no version is live yet). */
export interface LiveRead<T> {
  liveVersion: number;
  value: T;
}

export interface RedisReadModel {
  /** The live version's document of `tenant`'s, or undefined when there is none. */
  document(tenant: string, id: string): Promise<LiveRead<VersionedDocument | undefined>>;
  /** The documents (of `tenant`'s) whose ids a sorted set of `tenant`'s holds, highest score first. */
  listed(tenant: string, sortedSet: string, count: number): Promise<LiveRead<VersionedDocument[]>>;
  /** A sorted set's members with positive scores, highest first. */
  ranking(tenant: string, sortedSet: string, count: number): Promise<LiveRead<{ member: string; score: number }[]>>;
  checkpoints(): Promise<Checkpoints>;
}

/** Defines the scripts once per connection. */
function scripts(redis: Redis): Record<'document' | 'list' | 'ranking' | 'checkpoints', Script> {
  const named = { document: documentScript, list: listScript, ranking: rankingScript, checkpoints: checkpointsScript };
  for (const [name, lua] of Object.entries(named)) redis.defineCommand(`strataRead_${name}`, { numberOfKeys: 1, lua });
  const command = (name: string) => {
    const bound = (redis as unknown as Record<string, Script>)[`strataRead_${name}`];
    if (bound === undefined) throw new Error(`script ${name} is not defined`);
    return bound.bind(redis);
  };
  return { document: command('document'), list: command('list'), ranking: command('ranking'), checkpoints: command('checkpoints') };
}

const parsed = (version: string | null | undefined, json: string | null | undefined): VersionedDocument | undefined =>
  version == null || json == null ? undefined : { version: Number(version), document: JSON.parse(json) as Document };

export function redisReadModels(redis: Redis) {
  const run = scripts(redis);
  return (config: Pick<Config, 'topics'>, projection: ProjectionVersion): RedisReadModel => {
    const { base, livePointer } = redisNamespace(config, projection);
    const call = async (script: Script, ...args: (string | number)[]): Promise<LiveRead<(string | null)[]>> => {
      const reply = await script(livePointer, base, ...args);
      return reply === null ? { liveVersion: 0, value: [] } : { liveVersion: Number(reply[0]), value: reply.slice(1) };
    };
    return {
      async document(tenant, id) {
        const { liveVersion, value } = await call(run.document, documentKey(scoped(tenant, id)));
        return { liveVersion, value: parsed(value[0], value[1]) };
      },
      async listed(tenant, sortedSet, count) {
        const { liveVersion, value } = await call(run.list, scoped(tenant, sortedSet), count, documentKey(scoped(tenant, '')));
        const documents: VersionedDocument[] = [];
        for (let i = 0; i + 2 < value.length; i += 3) {
          const document = parsed(value[i + 1], value[i + 2]);
          if (document !== undefined) documents.push(document);
        }
        return { liveVersion, value: documents };
      },
      async ranking(tenant, sortedSet, count) {
        const { liveVersion, value } = await call(run.ranking, scoped(tenant, sortedSet), count);
        const ranked: { member: string; score: number }[] = [];
        for (let i = 0; i + 1 < value.length; i += 2) ranked.push({ member: String(value[i]), score: Number(value[i + 1]) });
        return { liveVersion, value: ranked };
      },
      async checkpoints() {
        const { value } = await call(run.checkpoints, checkpointKey);
        const checkpoints = new Map<number, bigint>();
        for (let i = 0; i + 1 < value.length; i += 2) checkpoints.set(Number(value[i]), BigInt(String(value[i + 1])));
        return checkpoints;
      },
    };
  };
}
